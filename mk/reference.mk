# Independent reference checks of the core (numpy re-implementation of the paper's rule, scikit-learn).
CHECK_SUITES += reference
.PHONY: check-reference
check-reference: shared
	@cd tests/reference && $(PYTHON) -m pytest -q -p no:cacheprovider -s test_paper_rule.py
