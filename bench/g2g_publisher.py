#!/usr/bin/env python3
"""Glass-to-glass publisher: paints the wall clock into each frame and publishes over RTMP.

    bench/g2g_publisher.py RTMP_URL EPOCH_MS SECONDS

Every frame (640x360, 30 fps, generated in real time) carries, in its top-left corner, a block
code of the milliseconds between EPOCH_MS and the moment the frame was painted: two rows of 20
16x16 blocks, black for 0 and white for 1, most significant bit first; 32 bits of value then 8
check bits (the XOR of the value's four bytes). The frames go to ffmpeg as raw YUV on stdin and
ffmpeg encodes them (x264 veryfast, zerolatency, 1 s GOP) with a sine tone and publishes FLV
over RTMP. The reader (g2g_reader.mjs) decodes the code and subtracts it from its own clock:
both run on this machine, so they share one clock.
"""
import signal
import subprocess
import sys
import time

WIDTH, HEIGHT, FPS = 640, 360, 30
BLOCK, PER_ROW = 16, 20
BLACK, WHITE, GRAY = 16, 235, 110


def code_bits(value):
    value &= 0xFFFFFFFF
    check = (value ^ (value >> 8) ^ (value >> 16) ^ (value >> 24)) & 0xFF
    word = (value << 8) | check
    return [(word >> (39 - i)) & 1 for i in range(40)]


def main():
    url, epoch_ms, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    cmd = [
        "ffmpeg", "-nostdin", "-v", "error",
        "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{WIDTH}x{HEIGHT}", "-r", str(FPS), "-i", "-",
        "-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-map", "0:v", "-map", "1:a", "-shortest",
        "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", str(FPS),
        "-b:v", "1500k", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-f", "flv", url,
    ]
    enc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    # SIGTERM ends the stream cleanly: ffmpeg gets end of input and closes the RTMP session.
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    y_size = WIDTH * HEIGHT
    base = bytearray([GRAY]) * y_size + bytearray([128]) * (y_size // 2)
    white, black = bytes([WHITE]) * BLOCK, bytes([BLACK]) * BLOCK
    start = time.monotonic()
    n_frames = int(seconds * FPS)
    try:
        for k in range(n_frames):
            if stopping:
                break
            # Paint at the frame's due time: the painted value is the frame's capture time.
            due = start + k / FPS
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            frame = bytearray(base)
            bits = code_bits(int(time.time() * 1000) - epoch_ms)
            for row in range(2):
                line = b"".join(white if b else black for b in bits[row * PER_ROW:(row + 1) * PER_ROW])
                for y in range(row * BLOCK, (row + 1) * BLOCK):
                    frame[y * WIDTH:y * WIDTH + len(line)] = line
            # A moving block below the code, so the picture changes like a real one.
            x = (k * 8) % (WIDTH - 32)
            for y in range(200, 232):
                frame[y * WIDTH + x:y * WIDTH + x + 32] = white[:1] * 32
            enc.stdin.write(frame)
        enc.stdin.close()
    except BrokenPipeError:
        pass
    sys.exit(enc.wait())


if __name__ == "__main__":
    main()
