"""Read an MP3 file's frames: its length, sample rate, channels and bit rates.

Enough of the MPEG audio frame header (ISO 11172-3 and 13818-3, Layer III) to walk a file
frame by frame, so a test or the simulator's player can measure a file rather than trust
the manifest. An ID3v2 tag at the start is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

# kbps by [MPEG-1?][index] for Layer III
_BITRATES = {
    True: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    False: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {3: (44_100, 48_000, 32_000), 2: (22_050, 24_000, 16_000), 0: (11_025, 12_000, 8_000)}


class NotMp3(ValueError):
    """The bytes are not a run of MPEG Layer III frames."""


@dataclass(frozen=True)
class Mp3Info:
    frames: int
    sample_rate: int
    channels: int
    bitrates: frozenset[int]  # kbps seen (one value: constant bit rate)
    seconds: float


def _skip_id3(data: bytes) -> int:
    if data[:3] != b"ID3" or len(data) < 10:
        return 0
    size = 0
    for byte in data[6:10]:
        size = size << 7 | (byte & 0x7F)
    return 10 + size


def mp3_info(data: bytes) -> Mp3Info:
    at = _skip_id3(data)
    frames, samples = 0, 0
    rates: set[int] = set()
    bitrates: set[int] = set()
    channels: set[int] = set()
    while at + 4 <= len(data):
        header = int.from_bytes(data[at : at + 4], "big")
        if header >> 21 != 0x7FF:
            raise NotMp3(f"no frame sync at byte {at}")
        version = header >> 19 & 3  # 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
        layer = header >> 17 & 3  # 1: Layer III
        bitrate_index = header >> 12 & 15
        rate_index = header >> 10 & 3
        padding = header >> 9 & 1
        mode = header >> 6 & 3
        if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
            raise NotMp3(f"not a Layer III frame at byte {at}")
        mpeg1 = version == 3
        kbps = _BITRATES[mpeg1][bitrate_index]
        rate = _RATES[version][rate_index]
        per_frame = 1152 if mpeg1 else 576
        length = (144 if mpeg1 else 72) * kbps * 1000 // rate + padding
        frames += 1
        samples += per_frame
        rates.add(rate)
        bitrates.add(kbps)
        channels.add(1 if mode == 3 else 2)
        at += length
    if not frames or len(rates) != 1 or len(channels) != 1:
        raise NotMp3("no frames, or frames of different formats")
    rate = rates.pop()
    return Mp3Info(frames, rate, channels.pop(), frozenset(bitrates), samples / rate)
