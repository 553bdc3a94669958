"""Router.load(path, mapped=True) (av_router_load_mapped): the same router as a plain load (hash,
bytes, decisions against the numpy reference of the paper's rule in test_router), and the same
refusal of a damaged file."""
import numpy as np
import pytest


def test_load_mapped_same_router(avengers, router, fx, tmp_path):
    p = str(tmp_path / "r.avr")
    router.save(p)
    plain = avengers.Router.load(p)
    mapped = avengers.Router.load(p, mapped=True)
    assert mapped.centroid_hash == plain.centroid_hash
    assert mapped.to_bytes() == plain.to_bytes()
    q = fx.emb[fx.test][:200]
    for alpha in (0.0, 0.5, 1.0):
        assert [mapped.route(e, alpha) for e in q] == [plain.route(e, alpha) for e in q]


def test_load_mapped_refuses_damage(avengers, router, tmp_path):
    p = tmp_path / "bad.avr"
    b = bytearray(router.to_bytes())
    b[len(b) // 2] ^= 0x04
    p.write_bytes(bytes(b))
    with pytest.raises(avengers.ChecksumError) as e:
        avengers.Router.load(str(p), mapped=True)
    assert "CRC32" in str(e.value)
