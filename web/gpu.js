// The WebGPU backend: the velocity MLP in WGSL (shaders/ served by the app) advects the dense particles and
// evaluates the field. Same interface as cpu.js's CpuBackend.

import { ACTIVATIONS, METHODS } from "./cpu.js";

const WORKGROUP = 64;

/**
 * Adapters and devices in use. Chromium loses a device once it, or its adapter, is garbage-collected (which
 * can happen while the set-up below awaits shader compilation), so each is held here from the moment it is
 * obtained until it is lost.
 */
const live = new Set();

async function shaderText(name) {
  const response = await fetch(`shaders/${name}`);
  if (!response.ok) throw new Error(`shader ${name}: HTTP ${response.status}`);
  return response.text();
}

/** Compile WGSL and throw with the compiler's messages if it has errors. */
async function compile(device, code, label) {
  const module = device.createShaderModule({ code, label });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === "error");
  if (errors.length) {
    throw new Error(`${label}: ${errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join("; ")}`);
  }
  return module;
}

/**
 * Start WebGPU; throws where WebGPU is missing or any part fails, so the caller can fall back. The particles
 * are computed on the GPU and read back for drawing on a 2D canvas (presenting a WebGPU canvas loses the
 * device in headless Chromium, and one drawing path serves both backends).
 * @param {(reason: string) => void} onLost called if the device is lost later
 */
export async function createGpuBackend(onLost) {
  if (!navigator.gpu) throw new Error("this browser has no WebGPU (navigator.gpu is missing)");
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error("WebGPU found no adapter");
  live.add(adapter);
  const device = await adapter.requestDevice();
  live.add(device);
  device.lost.then((info) => {
    live.delete(adapter);
    live.delete(device);
    onLost(info.message || "device lost");
  });
  const [mlp, advect, field] = await Promise.all(["mlp.wgsl", "advect.wgsl", "field.wgsl"].map(shaderText));
  device.pushErrorScope("validation");
  const advectModule = await compile(device, `${mlp}\n${advect}`, "advect");
  const fieldModule = await compile(device, `${mlp}\n${field}`, "field");
  const pipelines = {
    advect: device.createComputePipeline({ layout: "auto", compute: { module: advectModule, entryPoint: "advect" } }),
    evaluate: device.createComputePipeline({ layout: "auto", compute: { module: fieldModule, entryPoint: "evaluate" } }),
  };
  const error = await device.popErrorScope();
  if (error) throw new Error(`WebGPU pipeline: ${error.message}`);
  const info = adapter.info || {};
  const software = Boolean(info.isFallbackAdapter) || /swiftshader/i.test(`${info.vendor} ${info.architecture} ${info.description}`);
  const name = [info.vendor, info.architecture].filter(Boolean).join(" ");
  const maxWidth = Number(/const MAX_WIDTH: u32 = (\d+)u;/.exec(mlp)?.[1]);
  if (!maxWidth) throw new Error("mlp.wgsl does not declare MAX_WIDTH");
  return new GpuBackend(device, pipelines, name, software, maxWidth);
}

export class GpuBackend {
  name = "webgpu";

  constructor(device, pipelines, adapterName, software, maxWidth) {
    this.device = device;
    /** the widest hidden layer the shaders hold (mlp.wgsl's MAX_WIDTH) */
    this.maxWidth = maxWidth;
    this.pipelines = pipelines;
    this.adapterName = adapterName;
    /** a CPU-emulated adapter (SwiftShader): far slower than a real GPU, so the app asks less of it */
    this.software = software;
    /** compute work submitted and not yet read back; advect() refuses new work meanwhile */
    this.inFlight = false;
    const uniform = (size) => device.createBuffer({ size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.advectNet = uniform(16);
    this.evaluateNet = uniform(16);
    this.advectParams = uniform(16);
    this.weights = null;
    this.shape = null;
    this.count = 0;
    this.particles = null;
    this.origins = null;
    /** particle positions as last read back from the GPU, (x, y) pairs */
    this.positions = new Float32Array(0);
    /** bumped by setOrigins and reset, so a read-back of older positions is dropped */
    this.generation = 0;
    /** Serializes evaluate() calls, which share their buffers. */
    this.evaluating = Promise.resolve();
  }

  get particleCount() {
    return this.count;
  }

  /** Whether the previous advection has been read back (so a new one may start). */
  get idle() {
    return !this.inFlight;
  }

  /**
   * Upload a net's weights; throws for a net wider than the shaders hold (the caller falls back to JS).
   * @param {Float32Array} weights @param {import("./cpu.js").NetShape} shape
   */
  setWeights(weights, shape) {
    if (shape.width > this.maxWidth) {
      throw new Error(`a net ${shape.width} units wide is over the WebGPU shaders' limit of ${this.maxWidth}`);
    }
    if (!this.weights || this.weights.size !== weights.byteLength) {
      this.weights?.destroy();
      this.weights = this.device.createBuffer({
        size: weights.byteLength,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      });
      this.advectGroup = null;
    }
    this.device.queue.writeBuffer(this.weights, 0, weights);
    this.shape = shape;
  }

  netUniform(buffer, count) {
    const activation = ACTIVATIONS.indexOf(this.shape.activation);
    this.device.queue.writeBuffer(buffer, 0, new Uint32Array([this.shape.width, this.shape.depth, activation, count]));
  }

  /** New particle starting points (x, y pairs); positions restart there. */
  setOrigins(origins) {
    this.particles?.destroy();
    this.origins?.destroy();
    this.count = origins.length / 2;
    const size = Math.max(8, origins.byteLength);
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    this.particles = this.device.createBuffer({ size, usage });
    this.origins = this.device.createBuffer({ size, usage });
    this.device.queue.writeBuffer(this.origins, 0, origins);
    this.device.queue.writeBuffer(this.particles, 0, origins);
    this.positions = origins.slice();
    this.generation += 1;
    this.advectGroup = null;
  }

  /** Positions back to the origins. */
  reset() {
    if (!this.count) return;
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(this.origins, 0, this.particles, 0, this.count * 8);
    this.device.queue.submit([encoder.finish()]);
    this.generation += 1;
  }

  /**
   * Move every particle from tFrom to tTo in `substeps` steps of `method`, one dispatch per step (so no
   * single dispatch runs long on slow adapters), then read the positions back.
   */
  advect(tFrom, tTo, substeps, method) {
    if (!this.weights || !this.count || substeps < 1 || this.inFlight) return;
    this.netUniform(this.advectNet, this.count);
    this.advectGroup ??= this.device.createBindGroup({
      layout: this.pipelines.advect.getBindGroupLayout(0),
      entries: [this.weights, this.advectNet, this.advectParams, this.particles].map((buffer, binding) => ({
        binding,
        resource: { buffer },
      })),
    });
    const dt = (tTo - tFrom) / substeps;
    const params = new ArrayBuffer(16);
    new Uint32Array(params, 8, 1).set([METHODS.indexOf(method)]);
    for (let k = 0; k < substeps; k++) {
      new Float32Array(params, 0, 2).set([tFrom + k * dt, tFrom + (k + 1) * dt]);
      this.device.queue.writeBuffer(this.advectParams, 0, params);
      const encoder = this.device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(this.pipelines.advect);
      pass.setBindGroup(0, this.advectGroup);
      pass.dispatchWorkgroups(Math.ceil(this.count / WORKGROUP));
      pass.end();
      this.device.queue.submit([encoder.finish()]);
    }
    this.readPositions();
  }

  async readPositions() {
    const bytes = this.count * 8;
    const readback = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(this.particles, 0, readback, 0, bytes);
    this.device.queue.submit([encoder.finish()]);
    const generation = this.generation;
    this.inFlight = true;
    try {
      await readback.mapAsync(GPUMapMode.READ);
      if (generation === this.generation) this.positions = new Float32Array(readback.getMappedRange().slice(0));
    } catch (error) {
      console.warn(`rftoy: reading the particles back failed: ${error.message}`);
    } finally {
      readback.destroy();
      this.inFlight = false;
    }
  }
  /**
   * v at query points, computed by shaders/field.wgsl.
   * @param {Float32Array} queries (x, y, t) triples
   * @returns {Promise<Float32Array>} (vx, vy) pairs
   */
  evaluate(queries) {
    const run = this.evaluating.then(() => this.evaluateOnce(queries));
    this.evaluating = run.catch(() => undefined);
    return run;
  }

  async evaluateOnce(queries) {
    const n = queries.length / 3;
    if (!this.weights || n === 0) return new Float32Array(2 * n);
    const device = this.device;
    const padded = new Float32Array(4 * n);
    for (let i = 0; i < n; i++) padded.set(queries.subarray(3 * i, 3 * i + 3), 4 * i);
    const input = device.createBuffer({ size: padded.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    const output = device.createBuffer({ size: 8 * n, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const readback = device.createBuffer({ size: 8 * n, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(input, 0, padded);
    this.netUniform(this.evaluateNet, n);
    const group = device.createBindGroup({
      layout: this.pipelines.evaluate.getBindGroupLayout(0),
      entries: [this.weights, this.evaluateNet, input, output].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(this.pipelines.evaluate);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(Math.ceil(n / WORKGROUP));
    pass.end();
    encoder.copyBufferToBuffer(output, 0, readback, 0, 8 * n);
    device.queue.submit([encoder.finish()]);
    try {
      await readback.mapAsync(GPUMapMode.READ);
      return new Float32Array(readback.getMappedRange().slice(0));
    } finally {
      input.destroy();
      output.destroy();
      readback.destroy();
    }
  }
}
