"""A text embedder a user can run anywhere: TF-IDF (word 1-2-grams) followed by a truncated SVD,
fitted with scikit-learn and saved WITHOUT pickle, as a NumPy .npz of plain arrays (vocabulary,
idf, SVD components), so that loading it runs no code from the file and embedding is a few lines
of NumPy. libavengers itself does no embedding: this is the example's own.

    from text_embedder import TextEmbedder
    emb = TextEmbedder.fit(texts, dim=128)          # needs scikit-learn
    emb.save("embedder-text.npz")
    emb = TextEmbedder.load("embedder-text.npz")    # NumPy only
    E = emb.transform(["How many primes are below 100?"])   # float32 rows, L2-normalised

transform() reproduces scikit-learn's pipeline (TfidfVectorizer with lowercase, the default token
pattern, sublinear tf, smooth idf and L2-normalised rows, then TruncatedSVD.transform), and L2-
normalises the result; tests/python/test_route_text.py compares the two.
"""
import math
import re
from collections import Counter

import numpy as np

TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern
FORMAT = "libavengers-example-tfidf-svd-1"


def _terms(text, ngram_max):
    """The word n-grams (1..ngram_max) of a text, as scikit-learn's analyzer builds them."""
    tokens = TOKEN.findall(text.lower())
    out = list(tokens)
    for n in range(2, min(ngram_max, len(tokens)) + 1):
        out.extend(" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    return out


class TextEmbedder:
    def __init__(self, vocabulary, idf, components, ngram_max=2):
        self.vocabulary = list(vocabulary)
        self.index = {t: i for i, t in enumerate(self.vocabulary)}
        self.idf = np.asarray(idf, dtype=np.float64)
        # dim x len(vocabulary), kept at the float32 precision it is saved with, so that a fitted
        # embedder and its saved copy embed alike
        self.components = np.asarray(components, dtype=np.float32).astype(np.float64)
        self.ngram_max = int(ngram_max)

    @property
    def dim(self):
        return self.components.shape[0]

    @property
    def id(self):
        """The embedder id recorded in the router (av_fit_options.embedder_id)."""
        return "tfidf-svd%d-text" % self.dim

    @classmethod
    def fit(cls, texts, dim=128, max_features=20000, seed=0):
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2,
                                max_features=max_features, dtype=np.float64)
        X = tfidf.fit_transform(texts)
        svd = TruncatedSVD(n_components=dim, n_iter=7, random_state=seed).fit(X)
        vocab = [None] * len(tfidf.vocabulary_)
        for t, i in tfidf.vocabulary_.items():
            vocab[i] = t
        return cls(vocab, tfidf.idf_, svd.components_, ngram_max=2)

    def save(self, path):
        np.savez_compressed(path, format=np.array(FORMAT), vocabulary=np.array(self.vocabulary),
                            idf=self.idf, components=self.components.astype(np.float32),
                            ngram_max=np.array(self.ngram_max))

    @classmethod
    def load(cls, path):
        with np.load(path, allow_pickle=False) as z:  # plain arrays only: nothing is executed
            if str(z["format"]) != FORMAT:
                raise ValueError("%s is not a %s file" % (path, FORMAT))
            return cls(z["vocabulary"].tolist(), z["idf"], z["components"], int(z["ngram_max"]))

    def tfidf(self, text):
        """One text's TF-IDF row, sparse: (term indices, values), L2-normalised."""
        counts = Counter(t for t in _terms(text, self.ngram_max) if t in self.index)
        idx = np.array([self.index[t] for t in counts], dtype=np.int64)
        val = np.array([(1.0 + math.log(c)) * self.idf[self.index[t]] for t, c in counts.items()])
        norm = np.linalg.norm(val)
        return idx, val / norm if norm > 0 else val

    def transform(self, texts):
        """float32 embeddings (len(texts) x dim), L2-normalised; a text without any known term
        is a zero row (the library refuses it with AV_EVECTOR)."""
        E = np.zeros((len(texts), self.dim))
        for r, text in enumerate(texts):
            idx, val = self.tfidf(text)
            E[r] = self.components[:, idx] @ val
        norms = np.linalg.norm(E, axis=1, keepdims=True)
        return (E / np.where(norms > 0, norms, 1.0)).astype(np.float32)
