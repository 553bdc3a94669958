# The paper's rule and k-means checked against independent code (tests/reference/): the routing rule
# re-implemented in numpy from the paper's description, compared with the library's decisions on the
# bundled llmrouter9 data, and centroids and inertia compared with scikit-learn's k-means.
CHECK_SUITES += reference
.PHONY: check-reference
check-reference: shared
	@cd tests/reference && $(PYTHON) -m pytest -q -p no:cacheprovider -s test_paper_rule.py
