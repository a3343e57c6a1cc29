"""Breath radar frames written out by hand from the vendors' documents, with what each carries.

Seeed's MR60BHA2 frame format (ESPHome's seeed_mr60bha2 reads the same); DFRobot's C1001
(SEN0623) protocol and its MIT library DFRobot_HumanDetection (also Seeed's MR60BHA1).
Checksums were worked out by hand; none of these is built by the code under test.
"""

from __future__ import annotations

# MR60BHA2: 01 | id | len 00 04 | type 0A 14 | ~XOR(header) | float32 LE | ~XOR(data)
MR60_14 = bytes.fromhex("01 0001 0004 0A14 E5 00006041 DE")  # 14.0 a minute
MR60_12_5 = bytes.fromhex("01 0002 0004 0A14 E6 00004841 F6")  # 12.5 a minute
MR60_HEART_72 = bytes.fromhex("01 0003 0004 0A15 E6 00009042 2D")  # heart rate 72: not breath
MR60_14_BAD_DATA_SUM = bytes.fromhex("01 0001 0004 0A14 E5 00006041 DF")
MR60_14_BAD_HEAD_SUM = bytes.fromhex("01 0001 0004 0A14 E4 00006041 DE")

# C1001: 53 59 | control | command | len 00 01 | data | low byte of the sum | 54 43
C1001_14 = bytes.fromhex("5359 81 82 0001 0E BE 5443")  # answer to the rate query: 14
C1001_20 = bytes.fromhex("5359 81 82 0001 14 C4 5443")  # 20
C1001_REPORT_16 = bytes.fromhex("5359 81 02 0001 10 40 5443")  # reported unasked: 16
C1001_14_BAD_SUM = bytes.fromhex("5359 81 82 0001 0E BF 5443")
C1001_14_BAD_END = bytes.fromhex("5359 81 82 0001 0E BE 5444")
C1001_MODE_FALL = bytes.fromhex("5359 02 A8 0001 01 58 5443")  # work mode: 1 = fall detection
C1001_MODE_SLEEP = bytes.fromhex("5359 02 A8 0001 02 59 5443")  # work mode: 2 = sleep
C1001_SET_SLEEP = bytes.fromhex("5359 02 08 0001 02 B9 5443")
C1001_QUERY_RATE = bytes.fromhex("5359 81 82 0001 0F BF 5443")
C1001_QUERY_MODE = bytes.fromhex("5359 02 A8 0001 0F 66 5443")


C1001_0 = bytes.fromhex("5359 81 82 0001 00 B0 5443")  # 0: nobody there, not a rate
C1001_200 = bytes.fromhex("5359 81 82 0001 C8 78 5443")  # 200: absurd
MR60_200 = bytes.fromhex("01 0004 0004 0A14 E0 00004843 F4")  # 200.0: absurd
MR60_0 = bytes.fromhex("01 0005 0004 0A14 E1 00000000 FF")  # 0.0: absurd
