#!/usr/bin/env python3
"""Seeds fuzz/corpus/{decode,decode_features,parse_names} from the repository's fixtures (run from the
repository root: python3 fuzz/seed_corpora.py). The corpora are not committed.

decode: every file of fixtures/audio/formats, the first 8 KiB of every fixtures/audio clip
and of two quickstart FLACs, each behind a selector byte (the target's first byte: error
policy in bits 0-1, WAV reader in bit 2, extension hint in bits 5-7), once with no hint
and once with the matching hint.
decode_features: every fixtures/audio file whole (no selector byte).
parse_names: "root\\npath" for every file below fixtures/corpora.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HINTS = {"wav": 1, "flac": 2, "mp3": 3, "ogg": 4, "aiff": 5, "m4a": 6}


def main():
    out = ROOT / "fuzz" / "corpus" / "decode"
    out.mkdir(parents=True, exist_ok=True)
    files = sorted((ROOT / "fixtures" / "audio" / "formats").glob("*.*"))
    files = [(f, f.read_bytes()) for f in files if f.suffix != ".md"]
    for f in sorted((ROOT / "fixtures" / "audio").glob("*.wav")):
        files.append((f, f.read_bytes()[:8192]))
    for f in sorted((ROOT / "fixtures" / "corpora" / "quickstart").rglob("*.flac"))[:2]:
        files.append((f, f.read_bytes()[:8192]))
    for f, data in files:
        hint = HINTS.get(f.suffix.lstrip("."), 0)
        for selector in (0, hint << 5 | 1):
            (out / f"{f.stem}{f.suffix}.{selector:02x}").write_bytes(bytes([selector]) + data)
    out = ROOT / "fuzz" / "corpus" / "decode_features"
    out.mkdir(parents=True, exist_ok=True)
    audio = ROOT / "fixtures" / "audio"
    for f in sorted(audio.glob("*.wav")) + sorted((audio / "formats").glob("*.*")):
        if f.suffix != ".md":
            (out / f.name).write_bytes(f.read_bytes())
    out = ROOT / "fuzz" / "corpus" / "parse_names"
    out.mkdir(parents=True, exist_ok=True)
    corpora = ROOT / "fixtures" / "corpora"
    for i, f in enumerate(sorted(p for p in corpora.rglob("*") if p.is_file())):
        rel = f.relative_to(corpora)
        root = rel.parts[0]
        (out / f"{i:04d}").write_bytes(f"{root}\n{rel}".encode())


if __name__ == "__main__":
    main()
