'use strict';
/* libavengers for JavaScript: the C library compiled to WebAssembly (mk/wasm.mk; `make
   cross-build-wasm` writes wasm/avengers_core.js and .wasm beside this file). See README.md.

     const avengers = require('./avengers.js');
     const av = await avengers.init();
     const router = av.loadRouter(bytes);            // Uint8Array of a .avr file
     const model = router.route(embedding, 0.7);     // Float32Array of router.dim values
     router.free();

   Every call copies its arguments into the module's heap and frees them before returning; a
   failing call throws an AvengersError carrying the library's code and message. */

const createCore = require('./wasm/avengers_core.js');

class AvengersError extends Error {
  constructor(code, message, text = message, detail = '') {
    super(message);
    this.name = 'AvengersError';
    this.code = code; // the library's negative AV_E* code
    this.text = text; // av_strerror(code)
    this.detail = detail; // av_last_error() of the failing call
  }
}

const registry = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry(({ core, ptr }) => core._av_router_free(ptr.value)) : null;

function makeApi(core) {
  const str = (p) => core.UTF8ToString(p);
  const fail = (code) => {
    // av_last_error() already starts with the code's text when the library sets it
    const detail = str(core._av_last_error());
    const text = str(core._av_strerror(code));
    throw new AvengersError(code, detail || text, text, detail);
  };
  const check = (rc) => (rc < 0 ? fail(rc) : rc);
  const alloc = (n) => {
    const p = core._malloc(Math.max(n, 1));
    if (!p) throw new AvengersError(-2, 'out of memory (WebAssembly heap)');
    return p;
  };
  // Run fn with the given typed arrays copied into the heap; frees them whatever happens.
  const withHeap = (arrays, fn) => {
    const ptrs = [];
    try {
      for (const a of arrays) {
        const p = alloc(a.byteLength);
        core.HEAPU8.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), p);
        ptrs.push(p);
      }
      return fn(...ptrs);
    } finally {
      for (const p of ptrs) core._free(p);
    }
  };
  const toF32 = (v, what) => {
    if (v instanceof Float32Array) return v;
    if (Array.isArray(v) || ArrayBuffer.isView(v)) return Float32Array.from(v);
    throw new TypeError(`${what} must be a Float32Array`);
  };

  class Router {
    constructor(ptr) {
      this._ptr = { value: ptr };
      if (registry) registry.register(this, { core, ptr: this._ptr }, this);
    }
    get ptr() {
      if (!this._ptr.value) throw new AvengersError(-1, 'invalid argument: the router was freed');
      return this._ptr.value;
    }
    get dim() { return core._av_router_dim(this.ptr); }
    get nClusters() { return core._av_router_n_clusters(this.ptr); }
    get nModels() { return core._av_router_n_models(this.ptr); }
    get simdBackend() { return str(core._av_router_simd_backend(this.ptr)); }
    get modelNames() {
      const n = this.nModels;
      const names = [];
      for (let i = 0; i < n; i++) names.push(str(core._av_router_model_name(this.ptr, i)));
      return names;
    }
    modelIndex(name) {
      const size = core.lengthBytesUTF8(name) + 1;
      const p = alloc(size);
      try {
        core.stringToUTF8(name, p, size);
        return core._av_router_model_index(this.ptr, p);
      } finally {
        core._free(p);
      }
    }
    // The chosen model's index for one query (av_route).
    route(embedding, alpha = 0.5) {
      const e = toF32(embedding, 'embedding');
      return withHeap([e], (p) => check(core._av_route(this.ptr, p, e.length, alpha)));
    }
    // Rows of `dim` values, one after another: an Int32Array of models (av_route_batch).
    routeBatch(embeddings, alpha = 0.5) {
      const e = toF32(embeddings, 'embeddings');
      const dim = this.dim;
      if (e.length % dim !== 0)
        throw new AvengersError(-7, `embedding dimension does not match the router: ${e.length} values are not rows of ${dim}`);
      const n = e.length / dim;
      const out = new Int32Array(n);
      withHeap([e, out], (p, o) => {
        check(core._av_route_batch(this.ptr, p, n, dim, dim, alpha, o));
        out.set(new Int32Array(core.HEAPU8.buffer, o, n));
      });
      return out;
    }
    // The decision and why (av_route_ex with default options at this alpha).
    explain(embedding, alpha = 0.5) {
      const e = toF32(embedding, 'embedding');
      const m = this.nModels, k = this.nClusters;
      const ranked = new Int32Array(m), rankedScores = new Float64Array(m);
      const expScore = new Float64Array(m), expCost = new Float64Array(m);
      const clusters = new Uint32Array(k), sims = new Float32Array(k), out = new Float64Array(5);
      const bufs = [e, ranked, rankedScores, expScore, expCost, clusters, sims, out];
      return withHeap(bufs, (pe, pr, prs, pes, pec, pc, ps, po) => {
        const model = check(core._av_js_route_ex(this.ptr, pe, e.length, alpha, pr, prs, m, pes,
                                                 pec, m, pc, ps, k, po));
        const view = (T, p, n) => new T(core.HEAPU8.buffer, p, n).slice();
        const o = view(Float64Array, po, 5);
        const nr = o[0], nc = Math.min(o[1], k);
        const r = view(Int32Array, pr, nr), rs = view(Float64Array, prs, nr);
        const c = view(Uint32Array, pc, nc), cs = view(Float32Array, ps, nc);
        return {
          model,
          ranked: Array.from(r, (mi, i) => ({ model: mi, score: rs[i] })),
          expectedScore: view(Float64Array, pes, m),
          expectedCost: view(Float64Array, pec, m),
          clusters: Array.from(c, (ci, i) => ({ index: ci, similarity: cs[i] })),
          bestSimilarity: o[2],
          support: o[3],
          guarded: o[4] !== 0,
        };
      });
    }
    // Feedback: the observed score and cost of sending this query to that model.
    update(embedding, model, score, cost) {
      const e = toF32(embedding, 'embedding');
      withHeap([e], (p) => check(core._av_profile_update(this.ptr, p, e.length, model, score, cost)));
    }
    // The router file's bytes (av_router_save_buffer).
    save() {
      const pp = alloc(8); // void ** and size_t *
      try {
        check(core._av_router_save_buffer(this.ptr, pp, pp + 4));
        const data = core.HEAPU32[pp >> 2], size = core.HEAPU32[(pp + 4) >> 2];
        const bytes = core.HEAPU8.slice(data, data + size);
        core._av_free(data);
        return bytes;
      } finally {
        core._free(pp);
      }
    }
    free() {
      if (this._ptr.value) {
        core._av_router_free(this._ptr.value);
        this._ptr.value = 0;
        if (registry) registry.unregister(this);
      }
    }
  }

  return {
    AvengersError,
    version: str(core._av_version_string()),
    simdBackend: str(core._av_simd_backend()),
    // A router from the bytes of a .avr file (Uint8Array, Buffer or ArrayBuffer).
    loadRouter(bytes) {
      const b = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
      if (!ArrayBuffer.isView(b)) throw new TypeError('bytes must be a Uint8Array');
      const pp = alloc(4);
      try {
        return withHeap([b], (p) => {
          check(core._av_router_load_buffer(pp, p, b.byteLength));
          return new Router(core.HEAPU32[pp >> 2]);
        });
      } finally {
        core._free(pp);
      }
    },
    // Bytes of the WebAssembly heap in use (tests check that calls leave it unchanged).
    heapUsed: () => core._av_js_heap_used(),
  };
}

// Instantiate the module; options go to Emscripten's factory (e.g. { wasmBinary }).
async function init(options = {}) {
  return makeApi(await createCore(options));
}

module.exports = { init, AvengersError };
