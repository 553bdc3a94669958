'use strict';
/* Tests of the JavaScript binding under Node.js (`make check-js`; docs/PORTABILITY.md). Every
   expectation comes from the native x86-64 build run now (the `avengers` command, path in
   AV_NATIVE_CLI, default ../../build/bin/avengers), never from numbers written here:
   - the golden router (tests/cli/golden/router.avr, written on x86-64) loaded from bytes routes
     the llmrouter9 test queries (tests/data/llm9/emb.npy, parsed here) as the native build does,
     one query at a time and as a batch, at several alphas, with the same explanation;
   - after feedback, the bytes it saves load natively with the decisions the binding makes;
   - corrupt and truncated bytes, bad arguments: exceptions with the library's code and message;
   - thousands of calls leave the WebAssembly heap's use unchanged.
   Ends with `N passed, N failed`. */
const assert = require('node:assert');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const avengers = require('./avengers.js');

const ROOT = path.resolve(__dirname, '..', '..');
const GOLDEN = path.join(ROOT, 'tests/cli/golden/router.avr');
const EMB = path.join(ROOT, 'tests/data/llm9/emb.npy');
const CLI = process.env.AV_NATIVE_CLI || path.join(ROOT, 'build/bin/avengers');
const ALPHAS = [0, 0.25, 0.5, 0.7, 1];
// docs/PERFORMANCE.md: a SIMD backend's dot products agree with scalar within a relative 1e-5;
// scores and similarities of the explanation are compared with that tolerance.
const TOL = 1e-5;

let passed = 0, failed = 0;
async function test(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`);
  }
}

// A numpy '<f4' 2-D C-order array: { rows, dim, data: Float32Array } (little-endian on any host).
function readNpy(file) {
  const buf = fs.readFileSync(file);
  assert.strictEqual(buf.toString('latin1', 0, 6), '\x93NUMPY');
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + hlen);
  assert.match(header, /'descr': '<f4'/);
  assert.match(header, /'fortran_order': False/);
  const [, rows, dim] = header.match(/'shape': \((\d+), (\d+)\)/).map(Number);
  const data = new Float32Array(rows * dim);
  const dv = new DataView(buf.buffer, buf.byteOffset + start + hlen, rows * dim * 4);
  for (let i = 0; i < rows * dim; i++) data[i] = dv.getFloat32(4 * i, true);
  return { rows, dim, data };
}

// The native build's decisions: one JSON object per row.
function nativeRoute(router, alpha, explain = false) {
  const args = ['route', '--router', router, '--embeddings', EMB, '--alpha', String(alpha)];
  if (explain) args.push('--explain');
  const out = execFileSync(CLI, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  return out.trim().split('\n').map((l) => JSON.parse(l));
}

// The native build's message for a router file it cannot load (after the quoted path).
function nativeLoadError(file) {
  const p = spawnSync(CLI, ['route', '--router', file, '--embeddings', EMB], { encoding: 'utf8' });
  assert.notStrictEqual(p.status, 0);
  const m = p.stderr.match(/^avengers: (.*?): '[^']*': (.*)$/m);
  assert.ok(m, `unexpected native message: ${p.stderr}`);
  return { text: m[1], detail: m[2] };
}

function near(a, b, what) {
  assert.ok(Math.abs(a - b) <= TOL * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
}

async function main() {
  assert.ok(fs.existsSync(CLI), `no native avengers command at ${CLI} (make cli, or AV_NATIVE_CLI)`);
  const av = await avengers.init();
  console.log(`libavengers ${av.version} (WebAssembly, backend ${av.simdBackend}) under Node.js ${process.version}`);
  const golden = fs.readFileSync(GOLDEN);
  const emb = readNpy(EMB);
  const row = (i) => emb.data.subarray(i * emb.dim, (i + 1) * emb.dim);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'av-js-'));
  const native = {};
  for (const a of ALPHAS) native[a] = nativeRoute(GOLDEN, a, a === 0.7);

  await test('the golden router loads from bytes with the native build\'s shape and names', () => {
    const r = av.loadRouter(new Uint8Array(golden));
    try {
      assert.strictEqual(r.dim, emb.dim);
      const names = [];
      for (const e of native[0.7][0].ranked) names[e.model] = e.name;
      assert.deepStrictEqual(r.modelNames, names);
      assert.strictEqual(r.nModels, names.length);
      assert.strictEqual(r.modelIndex(names[3]), 3);
      assert.strictEqual(r.modelIndex('no such model'), -10);
    } finally {
      r.free();
    }
  });

  await test(`route: ${emb.rows} queries at ${ALPHAS.length} alphas as natively, one by one and as a batch`, () => {
    const r = av.loadRouter(golden);
    try {
      for (const a of ALPHAS) {
        assert.strictEqual(native[a].length, emb.rows);
        const batch = r.routeBatch(emb.data, a);
        for (let i = 0; i < emb.rows; i++) {
          const m = r.route(row(i), a);
          assert.strictEqual(m, native[a][i].model, `row ${i} alpha ${a}`);
          assert.strictEqual(batch[i], m, `batch row ${i} alpha ${a}`);
        }
      }
    } finally {
      r.free();
    }
  });

  await test('explain: ranked models, clusters and scores as natively (alpha 0.7)', () => {
    const r = av.loadRouter(golden);
    try {
      for (let i = 0; i < emb.rows; i += 7) {
        const x = r.explain(row(i), 0.7), n = native[0.7][i];
        assert.strictEqual(x.model, n.model);
        assert.deepStrictEqual(x.ranked.map((e) => e.model), n.ranked.map((e) => e.model));
        x.ranked.forEach((e, k) => near(e.score, n.ranked[k].score, `row ${i} ranked score`));
        assert.deepStrictEqual(x.clusters.map((c) => c.index), n.clusters.map((c) => c.cluster));
        x.clusters.forEach((c, k) => near(c.similarity, n.clusters[k].similarity, `row ${i} sim`));
        near(x.bestSimilarity, n.best_similarity, `row ${i} best similarity`);
        assert.strictEqual(x.support, n.support);
        assert.strictEqual(x.guarded, n.guarded);
      }
    } finally {
      r.free();
    }
  });

  await test('update then save: the native build loads the bytes and decides as the binding does', () => {
    const r = av.loadRouter(golden);
    try {
      for (let u = 0; u < 300; u++)
        r.update(row((u * 37) % emb.rows), u % r.nModels, ((u * 7) % 5) / 4, 1e-6 * (1 + (u % 13)));
      const bytes = r.save();
      assert.ok(bytes instanceof Uint8Array && bytes.length > 0);
      const file = path.join(tmp, 'updated.avr');
      fs.writeFileSync(file, bytes);
      const mine = Array.from(r.routeBatch(emb.data, 0.7));
      const theirs = nativeRoute(file, 0.7).map((o) => o.model);
      assert.deepStrictEqual(mine, theirs);
      assert.notDeepStrictEqual(mine, native[0.7].map((o) => o.model)); // the updates changed some
      // the bytes load back in the binding, decide the same and save to the same bytes
      const back = av.loadRouter(bytes);
      try {
        assert.deepStrictEqual(Array.from(back.routeBatch(emb.data, 0.7)), mine);
        assert.deepStrictEqual(back.save(), bytes);
      } finally {
        back.free();
      }
    } finally {
      r.free();
    }
  });

  await test('unchanged router: the saved bytes are the native build\'s save of the same file', () => {
    const r = av.loadRouter(golden);
    try {
      const file = path.join(tmp, 'golden.avr');
      fs.writeFileSync(file, r.save());
      const theirs = nativeRoute(file, 0.5).map((o) => o.model);
      assert.deepStrictEqual(theirs, native[0.5].map((o) => o.model));
    } finally {
      r.free();
    }
  });

  await test('corrupt and truncated bytes: AvengersError with the library\'s code and message', () => {
    const cases = [
      ['corrupt', (() => { const b = new Uint8Array(golden); b[5000] ^= 0x55; return b; })(), -5],
      ['truncated', new Uint8Array(golden.subarray(0, 600)), -4],
    ];
    for (const [what, bytes, code] of cases) {
      const file = path.join(tmp, `${what}.avr`);
      fs.writeFileSync(file, bytes);
      const n = nativeLoadError(file);
      assert.throws(() => av.loadRouter(bytes), (e) => {
        assert.ok(e instanceof avengers.AvengersError, what);
        assert.strictEqual(e.code, code, what);
        assert.strictEqual(e.text, n.text, what);
        assert.strictEqual(e.message, `${n.text}: ${n.detail}`, what);
        return true;
      });
    }
    assert.throws(() => av.loadRouter(new Uint8Array(0)), (e) => e.code < 0 && e.message.length > 0);
  });

  await test('bad arguments: AvengersError with the library\'s code', () => {
    const r = av.loadRouter(golden);
    try {
      const err = (code) => (e) => e instanceof avengers.AvengersError && e.code === code;
      assert.throws(() => r.route(row(0).subarray(1), 0.5), err(-7)); // EDIM
      assert.throws(() => r.route(new Float32Array(emb.dim), 0.5), err(-8)); // EVECTOR
      assert.throws(() => r.route(row(0), NaN), err(-9)); // EALPHA
      assert.throws(() => r.route(row(0), 1.5), err(-9));
      assert.throws(() => r.update(row(0), r.nModels, 1, 1e-6), err(-10)); // EMODEL
      assert.throws(() => r.update(row(0), 0, Infinity, 1e-6), err(-11)); // EVALUE
      assert.throws(() => r.routeBatch(emb.data.subarray(1), 0.5), err(-7));
      assert.throws(() => r.route('not a vector', 0.5), TypeError);
    } finally {
      r.free();
    }
    assert.throws(() => r.route(row(0), 0.5), (e) => e.code === -1); // freed
  });

  await test('no leak: 3,000 calls of every kind leave the heap\'s use unchanged', () => {
    const r0 = av.loadRouter(golden); // warm up (first-use allocations, heap growth)
    r0.route(row(0), 0.5); r0.explain(row(0), 0.5); r0.save(); r0.free();
    const before = av.heapUsed();
    const r = av.loadRouter(golden);
    for (let i = 0; i < 500; i++) {
      const q = row(i % emb.rows);
      r.route(q, 0.5);
      r.explain(q, 0.3);
      r.update(q, i % r.nModels, 0.5, 1e-6);
      if (i % 50 === 0) {
        r.routeBatch(emb.data.subarray(0, 64 * emb.dim), 0.7);
        const again = av.loadRouter(r.save());
        again.free();
      }
      try { r.route(q, 2); } catch (e) { /* EALPHA */ }
      try { av.loadRouter(golden.subarray(0, 100)); } catch (e) { /* EFORMAT */ }
    }
    r.free();
    assert.strictEqual(av.heapUsed(), before);
  });

  fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
  console.log(`FAIL setup: ${e && e.stack ? e.stack : e}`);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exitCode = 1;
});
