"""Three Newton viewers, one after another, each running ``while viewer.is_running():`` for up to
3 frames of the scene, reading its frame and closed."""
import hashlib

import _newton_scene as scene

drawn, images = [], []
for _ in range(3):
    viewer = scene.viewer()
    viewer.set_model(scene.model()[0])
    frames = 0
    while viewer.is_running() and frames < 3:
        scene.more_frames(viewer, frames=1)
        frames += 1
    drawn.append(frames)
    if frames:
        images.append(hashlib.sha1(scene.pixels(viewer).tobytes()).hexdigest()[:12])
    viewer.close()
print("FRAMES", drawn, flush=True)
print("SAME_PIXELS", len(images) == 3 and len(set(images)) == 1, images, flush=True)
