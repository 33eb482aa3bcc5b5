"""rtsp_core.RtpPacket against the lab's documented behaviour."""

from __future__ import annotations

import random
import struct
import time

import pytest

from rtsp_core import RtpPacket


def encode(**fields) -> RtpPacket:
    args = dict(version=2, padding=0, extension=0, cc=0, seqnum=0, marker=0, pt=26, ssrc=0)
    args.update(fields)
    payload = args.pop("payload", b"")
    p = RtpPacket()
    p.encode(
        args.pop("version"),
        args.pop("padding"),
        args.pop("extension"),
        args.pop("cc"),
        args.pop("seqnum"),
        args.pop("marker"),
        args.pop("pt"),
        args.pop("ssrc"),
        payload,
        **args,
    )
    return p


def test_handout_bit_example_first_byte():
    # The handout: V=2, P=0, X=0, CC=3 is 1 0 | 0 | 0 | 0 0 1 1.
    p = encode(version=2, padding=0, extension=0, cc=3)
    assert p.getPacket()[0] == 0b10_0_0_0011 == 0x83


def test_lab_server_header_bytes():
    # What the lab's ServerWorker passes: V=2, P=X=CC=M=0, PT=26, seq = frame number.
    p = encode(seqnum=0x1234, ssrc=0xDEADBEEF, payload=b"\xff\xd8jpeg", timestamp=0x01020304)
    packet = p.getPacket()
    assert packet[:12] == bytes(
        [0x80, 26, 0x12, 0x34, 0x01, 0x02, 0x03, 0x04, 0xDE, 0xAD, 0xBE, 0xEF]
    )
    assert packet[12:] == b"\xff\xd8jpeg"
    assert len(packet) == 12 + 6


def test_timestamp_is_the_clock_in_seconds_like_the_lab():
    before = int(time.time())
    p = encode(seqnum=1)
    after = int(time.time())
    assert before <= p.timestamp() <= after
    assert struct.unpack("!I", p.getPacket()[4:8])[0] == p.timestamp()


def test_marker_and_payload_type_share_the_second_byte():
    p = encode(marker=1, pt=26)
    assert p.getPacket()[1] == 0x80 | 26
    assert (p.marker(), p.payloadType()) == (1, 26)


@pytest.mark.parametrize("seq", [0, 1, 255, 256, 4096, 65534, 65535])
def test_sequence_number_round_trip(seq):
    sent = encode(seqnum=seq, payload=b"x")
    got = RtpPacket()
    got.decode(sent.getPacket())
    assert got.seqNum() == seq
    assert got.getPacket()[2:4] == seq.to_bytes(2, "big")


def test_sequence_number_wraps_at_16_bits():
    # The lab passes the frame number; past 65535 it wraps like the lab's 16-bit field.
    assert encode(seqnum=65536 + 7).seqNum() == 7


@pytest.mark.parametrize("size", [0, 1, 11, 12, 1400, 20000, 65000])
def test_payload_round_trip(size):
    payload = bytes(random.Random(size).getrandbits(8) for _ in range(size))
    sent = encode(seqnum=9, ssrc=77, payload=payload, timestamp=123456)
    got = RtpPacket()
    got.decode(sent.getPacket())
    assert got.getPayload() == payload
    assert got.payload == payload
    assert (got.version(), got.seqNum(), got.timestamp(), got.payloadType(), got.ssrc()) == (
        2,
        9,
        123456,
        26,
        77,
    )
    assert got.getPacket() == sent.getPacket()


def test_decode_takes_everything_after_12_bytes_as_payload_even_with_cc():
    # The lab's decode ignores CC/X/P: a CC=3 packet's payload still starts at byte 12.
    sent = encode(cc=3, payload=b"0123456789abcdef")
    got = RtpPacket()
    got.decode(sent.getPacket())
    assert got.cc() == 3
    assert got.getPayload() == b"0123456789abcdef"


def test_small_fields_are_masked_like_the_lab():
    p = encode(version=6, extension=3, cc=0x1F, marker=3, pt=0xFF)
    assert p.getPacket()[0] == 0b10_0_1_1111
    assert p.getPacket()[1] == 0xFF


def test_new_packet_is_zeros_like_the_lab():
    p = RtpPacket()
    assert p.getPacket() == bytes(12)
    assert (p.version(), p.seqNum(), p.timestamp(), p.payloadType()) == (0, 0, 0, 0)
    assert p.getPayload() == b""


def test_accepts_bytearray_and_memoryview_payloads():
    p = encode(payload=bytearray(b"abc"))
    assert p.getPayload() == b"abc"
    q = RtpPacket()
    q.decode(bytearray(p.getPacket()))
    assert q.getPayload() == b"abc"


@pytest.mark.parametrize("length", [0, 1, 5, 11])
def test_short_packet_raises_value_error_and_keeps_state(length):
    p = encode(seqnum=42, payload=b"keep")
    with pytest.raises(ValueError, match="12-byte"):
        p.decode(b"\x80" * length)
    assert p.seqNum() == 42 and p.getPayload() == b"keep"


@pytest.mark.parametrize(
    "field, value",
    [("seqnum", -1), ("ssrc", 2**32), ("ssrc", -5), ("cc", 256), ("pt", -1), ("timestamp", 2**32)],
)
def test_out_of_range_fields_raise_value_error_with_the_reason(field, value):
    with pytest.raises(ValueError, match=field):
        encode(**{field: value})


def test_wrong_types_raise_type_error():
    with pytest.raises(TypeError):
        RtpPacket().decode("not bytes")
    with pytest.raises(TypeError):
        encode(payload="text")
    with pytest.raises(TypeError):
        encode(seqnum=1.5)
    with pytest.raises((OverflowError, ValueError)):
        encode(seqnum=2**80)


def test_strict_refuses_what_a_standard_receiver_would_misread():
    with pytest.raises(ValueError, match="cc = 3"):
        encode(cc=3, strict=True)
    with pytest.raises(ValueError, match="version"):
        encode(version=1, strict=True)
    assert encode(seqnum=5, strict=True).seqNum() == 5


def test_random_bytes_never_crash():
    rng = random.Random(2435)
    for _ in range(2000):
        data = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 40)))
        p = RtpPacket()
        if len(data) < 12:
            with pytest.raises(ValueError):
                p.decode(data)
        else:
            p.decode(data)
            assert p.getPacket() == data
            assert p.version() == data[0] >> 6
            assert p.seqNum() == int.from_bytes(data[2:4], "big")


def test_subclassing_works_like_the_lab_class():
    class Mine(RtpPacket):
        def frame(self):
            return self.seqNum()

    m = Mine()
    m.decode(encode(seqnum=3).getPacket())
    assert m.frame() == 3
