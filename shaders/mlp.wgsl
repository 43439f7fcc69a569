// The velocity MLP v(x, y, t), read from the flat weight layout of docs/engine.md, "Weight layout":
// for each linear layer in order, W (out × in, row-major) then b. Input (x, y, t); hidden layers are
// followed by the activation; the 2-unit output is linear. Other shaders are appended to this file's text.

const MAX_WIDTH: u32 = 256u;

struct Net {
  width: u32,
  depth: u32,
  // 0 gelu (tanh approximation), 1 silu, 2 tanh, 3 relu
  activation: u32,
  // number of items (particles or points) the dispatch covers
  count: u32,
}

@group(0) @binding(0) var<storage, read> weights: array<f32>;
@group(0) @binding(1) var<uniform> net: Net;

// tanh written so that large |x| cannot overflow exp().
fn stable_tanh(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}

fn activate(x: f32) -> f32 {
  switch net.activation {
    case 0u: {
      return 0.5 * x * (1.0 + stable_tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
    }
    case 1u: {
      return x / (1.0 + exp(-x));
    }
    case 2u: {
      return stable_tanh(x);
    }
    default: {
      return max(x, 0.0);
    }
  }
}

fn velocity(p: vec2<f32>, t: f32) -> vec2<f32> {
  var a: array<f32, MAX_WIDTH>;
  var b: array<f32, MAX_WIDTH>;
  let w = net.width;

  // input layer: W is (w × 3), then b (w)
  for (var j = 0u; j < w; j++) {
    let r = 3u * j;
    a[j] = activate(weights[r] * p.x + weights[r + 1u] * p.y + weights[r + 2u] * t + weights[3u * w + j]);
  }
  var offset = 4u * w;

  // hidden layers: W is (w × w), then b (w)
  for (var layer = 1u; layer < net.depth; layer++) {
    for (var j = 0u; j < w; j++) {
      let r = offset + j * w;
      var s = 0.0;
      for (var k = 0u; k < w; k++) {
        s += weights[r + k] * a[k];
      }
      b[j] = activate(s + weights[offset + w * w + j]);
    }
    for (var j = 0u; j < w; j++) {
      a[j] = b[j];
    }
    offset += w * w + w;
  }

  // output layer: W is (2 × w), then b (2)
  var vx = 0.0;
  var vy = 0.0;
  for (var k = 0u; k < w; k++) {
    vx += weights[offset + k] * a[k];
    vy += weights[offset + w + k] * a[k];
  }
  return vec2<f32>(vx + weights[offset + 2u * w], vy + weights[offset + 2u * w + 1u]);
}
