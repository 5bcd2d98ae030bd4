#version 330 core
// The common way, kept as the benchmark's reference: positions and colours computed on the CPU
// and uploaded every frame; the shader only places and shades them.
#include "place.glsl"
layout(location = 0) in vec3 position;
layout(location = 1) in vec3 colour;
out vec3 sphere_colour;
void main() {
    place(position);
    sphere_colour = colour;
}
