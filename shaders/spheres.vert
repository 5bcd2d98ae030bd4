#version 330 core
// Each sphere is one point. Its position is a closed-form function of (sphere id, motion,
// transition, parameters): a Brownian bridge from its cell in keyframe A to its destination
// cell in keyframe B, written as the Karhunen-Loeve series
//     x(p) = lerp(a, b, ease(p)) + sigma * sum_k sqrt(2) sin(k pi p) / (k pi) * Z_k,
// with Z_k standard normal per sphere, term and axis (integer hash -> Box-Muller), in 3D.
// The CPU sends a handful of uniforms per frame, whatever the number of spheres.
#include "grade.glsl"

layout(location = 0) in vec2 cell_a;   // cell centre in keyframe A, uv (0,0 = top left)
layout(location = 1) in vec2 cell_b;   // destination cell centre in keyframe B

uniform sampler2D cells_a;     // one texel per cell: the cell's mean colour
uniform sampler2D cells_b;
uniform float motion;          // 0 = in A's grid, 1 = in B's
uniform uint transition;       // a new set of paths for every transition
uniform float sigma;           // diffusion amplitude, in picture half-heights
uniform int terms;             // bridge terms K
uniform float aspect;          // picture width / height
uniform float point_size;      // sphere diameter in pixels when it lies in the picture plane

out vec3 sphere_colour;
out float sphere_pixels;

const float PI = 3.14159265358979;
const float CAMERA = 3.0;      // camera distance in picture half-heights

uint mix_bits(uint x) {
    x ^= x >> 16u; x *= 0x7feb352du;
    x ^= x >> 15u; x *= 0x846ca68bu;
    x ^= x >> 16u;
    return x;
}

float uniform01(uint a, uint b) {
    uint h = mix_bits(a * 0x9e3779b9u ^ mix_bits(b + transition * 0x85ebca6bu));
    return (float(h >> 8u) + 0.5) / 16777216.0;
}

vec3 normal3(uint id, uint k) {
    float r1 = sqrt(-2.0 * log(uniform01(id, k * 4u)));
    float r2 = sqrt(-2.0 * log(uniform01(id, k * 4u + 2u)));
    float t1 = 2.0 * PI * uniform01(id, k * 4u + 1u);
    float t2 = 2.0 * PI * uniform01(id, k * 4u + 3u);
    return vec3(r1 * cos(t1), r1 * sin(t1), r2 * cos(t2));
}

vec3 plane_position(vec2 uv) {
    return vec3((uv.x * 2.0 - 1.0) * aspect, 1.0 - uv.y * 2.0, 0.0);
}

void main() {
    float p = motion;
    float eased = p * p * (3.0 - 2.0 * p);
    vec3 position = mix(plane_position(cell_a), plane_position(cell_b), eased);
    vec3 wander = vec3(0.0);
    if (p > 0.0 && p < 1.0) {
        uint id = uint(gl_VertexID);
        for (int k = 1; k <= terms; ++k) {
            float kpi = float(k) * PI;
            wander += (sqrt(2.0) * sin(kpi * p) / kpi) * normal3(id, uint(k));
        }
    }
    position += sigma * wander;
    position.z = min(position.z, 0.8 * CAMERA);

    float w = (CAMERA - position.z) / CAMERA;   // perspective: nearer spheres look larger
    gl_Position = vec4(position.x / aspect, position.y, -position.z / (2.0 * CAMERA) * w, w);
    sphere_pixels = point_size / w;
    gl_PointSize = sphere_pixels;

    vec3 colour = mix(texture(cells_a, cell_a).rgb, texture(cells_b, cell_b).rgb, eased);
    sphere_colour = grade(colour);
}
