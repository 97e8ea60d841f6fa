"""NAND flash: channels, dies, planes, page buffers, tR/tPROG/tBERS, channel transfer at the bus rate."""
