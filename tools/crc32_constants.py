#!/usr/bin/python3
"""The folding constants of src/kernels/crc32.c, derived from the CRC-32 polynomial.

CRC-32 (zlib's crc32, IEEE 802.3) divides by P(x) = x^32 + x^26 + x^23 + x^22 + x^16 + x^12 + x^11
+ x^10 + x^8 + x^7 + x^5 + x^4 + x^2 + x + 1 (0x104C11DB7) with the bits of each byte taken least
significant first ("reflected"). Folding a 128-bit lane forward over D bits of message multiplies
its two 64-bit halves by x^(D+32) mod P and x^(D-32) mod P; in the reflected representation a
constant x^n mod P is stored as its 32 bits reversed and shifted left once (the carry-less product
of two reflected values is one bit short of the reflected product). The final reduction uses
x^64 mod P, and Barrett's method with mu = floor(x^64 / P) and P itself, both reflected over
33 bits. This is the method of Gopal et al., "Fast CRC Computation for Generic Polynomials Using
PCLMULQDQ Instruction" (Intel, 2009), in the reflected form.

Run it to print the constants; src/kernels/crc32.c holds its output and tests/unit/kernels/
test_crc32.c checks the code against zlib's crc32.
"""

P = 0x104C11DB7


def xn_mod_p(n):
    """x^n mod P(x), as a 32-bit polynomial in the normal bit order."""
    r = 1
    for _ in range(n):
        r <<= 1
        if r >> 32 & 1:
            r ^= P
    return r


def reflect(v, bits):
    return int(format(v, "0%db" % bits)[::-1], 2)


def fold_constant(n):
    """x^n mod P, reflected over 32 bits and shifted left once (33 bits)."""
    return reflect(xn_mod_p(n), 32) << 1


def mu():
    """floor(x^64 / P(x)), reflected over 33 bits."""
    q, r = 0, 1 << 64
    for i in range(64, 31, -1):
        if r >> i & 1:
            q |= 1 << (i - 32)
            r ^= P << (i - 32)
    return reflect(q, 33)


if __name__ == "__main__":
    for label, d in (("fold 4 x 128 bits (64 bytes)", 4 * 128), ("fold 128 bits (16 bytes)", 128),
                     ("fold 4 x 512 bits (256 bytes)", 4 * 512), ("fold 512 bits (64 bytes)", 512),
                     ("fold 384 bits", 384), ("fold 256 bits", 256)):
        print("%-32s x^%d: 0x%09x  x^%d: 0x%09x" % (label, d + 32, fold_constant(d + 32), d - 32,
                                                    fold_constant(d - 32)))
    print("%-32s x^64: 0x%09x" % ("128 -> 64 -> 32 bits", fold_constant(64)))
    print("%-32s mu: 0x%09x  P: 0x%09x" % ("Barrett", mu(), reflect(P, 33)))
