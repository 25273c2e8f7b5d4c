/* lucky5's run in JavaScript: the same numbers as lucky5.train, computed in a browser.
 *
 * A phone trains its own run with this file instead of asking the server, and an offline HTML copy
 * retrains with it. It reproduces, for torch.optim.SGD (momentum, dampening, Nesterov, weight decay):
 *   - torch's CPU generator: MT19937 seeded by init_genrand(seed mod 2^32); each float32 of
 *     torch.rand is (r & 0xFFFFFF) * 2^-24 for one 32-bit output r;
 *   - nn.Linear(10, 1)'s default initialisation from that stream (10 weights, then the bias), each
 *     float32(x * float32(hi - lo) + lo) computed in double, as ATen's uniform_real does;
 *   - then one fresh torch.rand(batch_size, 10) per step, drawn after the layer (lucky5.engine);
 *   - the forward pass and the closed-form MSE gradient in float32, summed in the order of ATen's
 *     small-matrix bmm kernel (one product at a time, rounded, then added and rounded);
 *   - torch.optim.SGD's single-tensor update, whose add(other, alpha) is one fused multiply-add
 *     on x86-64 (emulated exactly below).
 * Every number is a JavaScript double holding a float32 value; Math.fround after each operation
 * rounds as float32 arithmetic does. JavaScript's arithmetic is IEEE 754 on every platform, so
 * a run gives the same bits in every browser (tests/browser/test_train_js.py checks it against
 * lucky5.train).
 *
 * Usage: lucky5.train({seed, lr, epochs, momentum, ...}) returns {initial, weights, bias, losses,
 * divergedAt, steps}; new lucky5.Run(config).advance(n) trains in slices (a page can draw between
 * them); lucky5.summarize(run) is lucky5.room.summarize's Summary of it.
 */
(function (root) {
  "use strict";

  var N = 624;
  var M = 397;
  var IN = 10; // inputs of nn.Linear(10, 1)
  var P = IN + 1; // parameters: 10 weights and the bias
  var TWO_M24 = 5.960464477539063e-8; // 2^-24
  var MAX_BATCH_EXACT = 36; // up to here ATen's bmm sums in the order reproduced below
  var MAX_CURVE_POINTS = 60;
  var fround = Math.fround;

  /* torch's CPU generator (at::mt19937): init_genrand(seed) and the usual tempering. */
  function MT19937(seed) {
    var mt = new Uint32Array(N);
    mt[0] = seed >>> 0;
    for (var i = 1; i < N; i++) {
      var prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.mt = mt;
    this.index = N;
  }

  MT19937.prototype.twist = function () {
    var mt = this.mt;
    for (var i = 0; i < N; i++) {
      var y = (mt[i] & 0x80000000) | (mt[(i + 1) % N] & 0x7fffffff);
      var v = mt[(i + M) % N] ^ (y >>> 1);
      mt[i] = y & 1 ? v ^ 0x9908b0df : v;
    }
    this.index = 0;
  };

  /* The next 32-bit output, as an unsigned number. */
  MT19937.prototype.next = function () {
    if (this.index >= N) this.twist();
    var y = this.mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  };

  /* One float32 of torch.rand: 24 random bits scaled into [0, 1). */
  MT19937.prototype.rand = function () {
    return (this.next() & 0xffffff) * TWO_M24;
  };

  /* tensor.uniform_(-bound, bound): from and to are float32, the value is computed in double. */
  function uniform(gen, bound) {
    var lo = fround(-bound);
    var hi = fround(bound);
    return fround(gen.rand() * fround(hi - lo) + lo);
  }

  /* nn.Linear(10, 1)'s default initialisation: [w (10), b] as a Float64Array of float32 values. */
  function initLayer(gen) {
    var a = Math.sqrt(5); // kaiming_uniform_(weight, a=sqrt(5)), as nn.Linear.reset_parameters does
    var gain = Math.sqrt(2.0 / (1 + a * a)); // calculate_gain("leaky_relu", a)
    var bound = Math.sqrt(3.0) * (gain / Math.sqrt(IN));
    var p = new Float64Array(P);
    for (var i = 0; i < IN; i++) p[i] = uniform(gen, bound);
    p[IN] = uniform(gen, 1 / Math.sqrt(IN)); // the bias: uniform_(-1/sqrt(fan_in), 1/sqrt(fan_in))
    return p;
  }

  /* float32(a * b + c) rounded once, as a fused multiply-add does (a, b, c float32 values).
   * a * b is exact in double (24 + 24 bits); the sum s is rounded to double, then to float32 (r).
   * That second rounding errs only when s lands exactly halfway between two float32 values while
   * the sum was inexact: then TwoSum's error e says on which side the exact sum lies. */
  function fma(a, b, c) {
    var p = a * b;
    var s = p + c;
    var r = fround(s);
    var d = s - r; // exact: s and r are within one float32 step
    if (d !== 0 && fround(r + 2 * d) === r + 2 * d) {
      // s is a midpoint (r + 2d is the float32 on its other side); otherwise r + 2d is not a float32
      var bp = s - c;
      var e = p - bp + (c - (s - bp));
      if (e !== 0 && e > 0 !== d < 0) return r + 2 * d;
    }
    return r;
  }

  /* The float32 sum of v in the order of ATen's CPU sum kernel (cascade_sum) on x86-64 with AVX2:
   * fewer than 8 numbers are summed in 4 interleaved partial sums (row_sum); from 8 on, 8 lanes
   * of whole vectors are, and the leftover numbers are added first, then the lanes in order.
   * The loss of a batch of 1 is its one square whatever the order. */
  var rowParts = new Float64Array(4);

  function rowSum(v, start, stride, n) {
    rowParts.fill(0);
    var parts = rowParts,
      quads = Math.floor(n / 4),
      i,
      k;
    for (i = 0; i < quads; i++) for (k = 0; k < 4; k++) parts[k] = fround(parts[k] + v[start + (4 * i + k) * stride]);
    for (i = quads * 4; i < n; i++) parts[0] = fround(parts[0] + v[start + i * stride]);
    for (k = 1; k < 4; k++) parts[0] = fround(parts[0] + parts[k]);
    return parts[0];
  }

  function batchSum(v) {
    var n = v.length;
    if (n < 8) return rowSum(v, 0, 1, n);
    var vectors = Math.floor(n / 8),
      acc = 0,
      k;
    for (k = vectors * 8; k < n; k++) acc = fround(acc + v[k]);
    for (k = 0; k < 8; k++) acc = fround(acc + rowSum(v, k, 8, vectors));
    return acc;
  }

  var DEFAULTS = {
    seed: 0,
    lr: 0.01,
    epochs: 200,
    momentum: 0.1,
    dampening: 0,
    nesterov: false,
    weight_decay: 0,
    batch_size: 1,
    target: 5,
    optimizer: "sgd",
  };

  function settings(config) {
    var c = {};
    for (var k in DEFAULTS) c[k] = config && config[k] !== undefined ? config[k] : DEFAULTS[k];
    if (c.optimizer !== "sgd") throw new Error("only SGD is ported to JavaScript, not " + c.optimizer);
    if (!(c.epochs >= 1 && c.epochs === Math.floor(c.epochs))) throw new Error("epochs must be a whole number >= 1");
    if (!(c.batch_size >= 1 && c.batch_size <= MAX_BATCH_EXACT && c.batch_size === Math.floor(c.batch_size)))
      throw new Error("batch_size must be a whole number from 1 to " + MAX_BATCH_EXACT);
    if (!(c.lr > 0)) throw new Error("lr must be above 0");
    return c;
  }

  /* One run part-way through training (lucky5.engine.Training for one run).
   * params holds the parameters before the next step; losses[i] is step i's loss (the mean squared
   * error of its batch). A run stops at its first step whose loss or update is not finite
   * (divergedAt) and keeps its last finite parameters, as lucky5's History does. */
  function Run(config) {
    var c = (this.config = settings(config));
    this.gen = new MT19937(c.seed);
    this.params = initLayer(this.gen);
    this.initial = Float64Array.from(this.params);
    this.buf = null; // SGD's momentum buffer, created at the first step as torch does
    this.losses = new Float64Array(c.epochs);
    this.done = 0;
    this.divergedAt = null;
    this._x = new Float64Array(c.batch_size * IN);
    this._err = new Float64Array(c.batch_size);
    this._sq = new Float64Array(c.batch_size);
    this._grad = new Float64Array(P);
    this._next = new Float64Array(P);
    this._d = new Float64Array(P);
  }

  Run.prototype.finished = function () {
    return this.divergedAt !== null || this.done >= this.config.epochs;
  };

  /* Take steps until `until` are done (at most epochs), or until the run diverges. */
  Run.prototype.advance = function (until) {
    var stop = Math.min(until === undefined ? this.config.epochs : until, this.config.epochs);
    while (this.done < stop && this.divergedAt === null) this.step();
    return this;
  };

  Run.prototype.step = function () {
    var c = this.config,
      B = c.batch_size,
      p = this.params,
      x = this._x,
      err = this._err,
      g = this._grad,
      nxt = this._next;
    var gen = this.gen,
      target = fround(c.target),
      i,
      j,
      acc;
    for (i = 0; i < B * IN; i++) x[i] = gen.rand();
    // forward: ŷ = x·w + b, one product at a time (bmm of [x, 1] and [w, b])
    for (i = 0; i < B; i++) {
      acc = 0;
      for (j = 0; j < IN; j++) acc = fround(acc + fround(x[i * IN + j] * p[j]));
      acc = fround(acc + p[IN]);
      err[i] = fround(acc - target);
      this._sq[i] = fround(err[i] * err[i]);
    }
    var loss = fround(batchSum(this._sq) / B); // (ŷ − t).square().mean()
    if (!isFinite(loss)) return this._diverge();
    // dL/d[w, b] = (2/B)·[x, 1]ᵀ(ŷ − t): zᵀ is scaled first, then summed over the batch
    var scale = fround(2.0 / B);
    for (j = 0; j < P; j++) {
      acc = 0;
      for (i = 0; i < B; i++) {
        var z = j < IN ? x[i * IN + j] : 1;
        acc = fround(acc + fround(fround(z * scale) * err[i]));
      }
      g[j] = acc;
    }
    this._sgd(g, nxt);
    for (j = 0; j < P; j++) if (!isFinite(nxt[j])) return this._diverge();
    p.set(nxt);
    this.losses[this.done] = loss;
    this.done++;
  };

  /* torch.optim.SGD's _single_tensor_sgd; each add(other, alpha) is fma(other, alpha, self). */
  Run.prototype._sgd = function (grad, out) {
    var c = this.config,
      p = this.params,
      j;
    var mom = fround(c.momentum),
      damp = fround(1 - c.dampening),
      wd = fround(c.weight_decay),
      minusLr = fround(-c.lr);
    var d = this._d;
    for (j = 0; j < P; j++) d[j] = c.weight_decay !== 0 ? fma(p[j], wd, grad[j]) : grad[j];
    if (c.momentum !== 0) {
      if (this.buf === null) this.buf = Float64Array.from(d);
      else for (j = 0; j < P; j++) this.buf[j] = fma(d[j], damp, fround(this.buf[j] * mom));
      for (j = 0; j < P; j++) d[j] = c.nesterov ? fma(this.buf[j], mom, d[j]) : this.buf[j];
    }
    for (j = 0; j < P; j++) out[j] = fma(d[j], minusLr, p[j]);
  };

  Run.prototype._diverge = function () {
    this.divergedAt = this.done;
  };

  /* What the run holds now: the initial and current layers, and the losses of the steps done. */
  Run.prototype.result = function () {
    return {
      initial: Array.from(this.initial),
      weights: Array.from(this.params.subarray(0, IN)),
      bias: this.params[IN],
      losses: this.losses.subarray(0, this.done),
      divergedAt: this.divergedAt,
      steps: this.done,
    };
  };

  function train(config) {
    return new Run(config).advance().result();
  }

  /* lucky5.room.curve_edges: bin edges 0 = e0 < ... < ek = steps, at most 60 bins. */
  function curveEdges(steps) {
    var p = MAX_CURVE_POINTS,
      edges = [],
      i;
    if (steps <= p) {
      for (i = 0; i <= steps; i++) edges.push(i);
      return edges;
    }
    for (i = 0; i <= p; i++) edges.push(i + roundHalfEven(Math.pow(steps - p + 1, i / p) - 1));
    return edges;
  }

  function roundHalfEven(v) {
    var r = Math.round(v);
    return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r; // Python's round() sends ties to even
  }

  /* lucky5.room.summarize: the bounded Summary a phone reports (keys as in Summary.to_json). */
  function summarize(run) {
    var c = run.config,
      steps = run.done,
      edges = curveEdges(steps),
      xs = [],
      ys = [],
      k,
      i;
    for (k = 1; k < edges.length; k++) {
      var sum = 0;
      for (i = edges[k - 1]; i < edges[k]; i++) sum += run.losses[i];
      xs.push(edges[k]);
      ys.push(sum / (edges[k] - edges[k - 1]));
    }
    var norm = 0;
    for (i = 0; i < IN; i++) norm += run.params[i] * run.params[i];
    return {
      seed: c.seed,
      optimizer: c.optimizer,
      lr: c.lr,
      epochs: c.epochs,
      final_loss: steps ? run.losses[steps - 1] : null,
      b: run.params[IN],
      w_norm: Math.sqrt(norm),
      diverged_at: run.divergedAt,
      curve_steps: xs,
      curve_losses: ys,
    };
  }

  root.lucky5 = {
    MT19937: MT19937,
    initLayer: initLayer,
    fma: fma,
    Run: Run,
    train: train,
    curveEdges: curveEdges,
    summarize: summarize,
    MAX_BATCH_EXACT: MAX_BATCH_EXACT,
  };
})(typeof globalThis !== "undefined" ? globalThis : this);
