// Puts a sphere at a 3D position: the picture lies in the plane z = 0, spanning x in
// [-aspect, aspect] and y in [-1, 1]; a camera CAMERA half-heights in front of it sees it
// exactly, so spheres nearer the camera look larger.
uniform float aspect;          // picture width / height
uniform float point_size;      // sphere diameter in pixels when it lies in the picture plane
out float sphere_pixels;

const float CAMERA = 3.0;

void place(vec3 position) {
    position.z = min(position.z, 0.8 * CAMERA);
    float w = (CAMERA - position.z) / CAMERA;
    gl_Position = vec4(position.x / aspect, position.y, -position.z / (2.0 * CAMERA) * w, w);
    sphere_pixels = point_size / w;
    gl_PointSize = sphere_pixels + 2.0;  // a pixel of margin all round for the antialiased edge
}
