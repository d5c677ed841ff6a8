"""Operations: each a sequence of engine calls that leaves things as they were when it fails."""
