// Particle advection: moves every particle from t_from to t_to in one step of the chosen solver (gpu.js
// dispatches once per step). Appended to mlp.wgsl, which provides `net`, `weights` and `velocity`.

struct Advect {
  t_from: f32,
  t_to: f32,
  // 0 euler, 1 midpoint, 2 rk4
  method: u32,
}

@group(0) @binding(2) var<uniform> advect_params: Advect;
@group(0) @binding(3) var<storage, read_write> particles: array<vec2<f32>>;

fn solver_step(z: vec2<f32>, t: f32, dt: f32) -> vec2<f32> {
  switch advect_params.method {
    case 0u: {
      return z + dt * velocity(z, t);
    }
    case 1u: {
      return z + dt * velocity(z + 0.5 * dt * velocity(z, t), t + 0.5 * dt);
    }
    default: {
      let k1 = velocity(z, t);
      let k2 = velocity(z + 0.5 * dt * k1, t + 0.5 * dt);
      let k3 = velocity(z + 0.5 * dt * k2, t + 0.5 * dt);
      let k4 = velocity(z + dt * k3, t + dt);
      return z + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    }
  }
}

@compute @workgroup_size(64)
fn advect(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i >= net.count) {
    return;
  }
  particles[i] = solver_step(particles[i], advect_params.t_from, advect_params.t_to - advect_params.t_from);
}
