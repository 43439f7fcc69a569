// Field evaluation: v(x, y, t) at arbitrary query points (x, y, t, unused), one invocation per point.
// Used for the velocity-field arrows and streamlines and by the parity test. Appended to mlp.wgsl.

@group(0) @binding(2) var<storage, read> queries: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> velocities: array<vec2<f32>>;

@compute @workgroup_size(64)
fn evaluate(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i >= net.count) {
    return;
  }
  let q = queries[i];
  velocities[i] = velocity(q.xy, q.z);
}
