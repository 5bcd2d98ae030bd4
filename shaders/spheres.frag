#version 330 core
// An impostor sphere on a point sprite: shaded with diffuse, specular and a soft rim light,
// discarded outside its disc, with an edge antialiased over one pixel. ``shading`` blends
// the lit sphere with its flat colour: flat spheres that overlap tile the picture in its own
// colours, fully lit ones read as a field of balls.
in vec3 sphere_colour;
in float sphere_pixels;
uniform float shading;     // 0 = flat colour, 1 = fully lit
out vec4 colour;

const vec3 LIGHT = normalize(vec3(-0.45, 0.55, 0.70));
const vec3 VIEW = vec3(0.0, 0.0, 1.0);

void main() {
    // The sprite is a pixel wider than the sphere all round; the edge's coverage falls from 1 to
    // 0 over the pixel centred on the sphere's outline, so small spheres keep their full size and
    // overlapping ones tile without dark seams.
    float radius = 0.5 * max(sphere_pixels, 1.0);
    vec2 c = (gl_PointCoord * 2.0 - 1.0) * (radius + 1.0) / radius;  // 1 = the outline
    float r = length(c);
    float edge = clamp((1.0 - r) * radius + 0.5, 0.0, 1.0);
    if (edge <= 0.0) discard;
    c /= max(r, 1.0);
    r = min(r, 1.0);
    vec3 n = vec3(c.x, -c.y, sqrt(max(1.0 - r * r, 0.0)));
    float diffuse = max(dot(n, LIGHT), 0.0);
    float specular = pow(max(dot(n, normalize(LIGHT + VIEW)), 0.0), 48.0);
    float rim = pow(1.0 - n.z, 3.0);
    vec3 lit = sphere_colour * (0.45 + 0.7 * diffuse) + 0.35 * specular + 0.18 * rim * sphere_colour;
    colour = vec4(mix(sphere_colour, lit, shading), edge);
}
