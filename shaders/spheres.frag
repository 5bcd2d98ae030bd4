#version 330 core
// An impostor sphere on a point sprite: shaded with diffuse, specular and a soft rim light,
// discarded outside its disc, with an edge antialiased over about one pixel.
in vec3 sphere_colour;
in float sphere_pixels;
out vec4 colour;

const vec3 LIGHT = normalize(vec3(-0.45, 0.55, 0.70));
const vec3 VIEW = vec3(0.0, 0.0, 1.0);

void main() {
    vec2 c = gl_PointCoord * 2.0 - 1.0;
    float r = length(c);
    float edge = 1.0 - smoothstep(1.0 - 2.0 / max(sphere_pixels, 1.0), 1.0, r);
    if (edge <= 0.0) discard;
    vec3 n = vec3(c.x, -c.y, sqrt(max(1.0 - r * r, 0.0)));
    float diffuse = max(dot(n, LIGHT), 0.0);
    float specular = pow(max(dot(n, normalize(LIGHT + VIEW)), 0.0), 48.0);
    float rim = pow(1.0 - n.z, 3.0);
    vec3 lit = sphere_colour * (0.45 + 0.7 * diffuse) + 0.35 * specular + 0.18 * rim * sphere_colour;
    colour = vec4(lit, edge);
}
