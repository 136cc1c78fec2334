#!/usr/bin/env python3
"""Writes the tiny models the inference tests and `npm run example:llm` run, under examples/models/.

Random weights, a few hundred kB each, the same bytes on every run (seeded; no timestamps in any format):

  mlp.onnx             a 16-32-4 MLP for onnxruntime-node: input `input` float32 [batch, 16] (batch dynamic),
                       output `logits` float32 [batch, 4]
  tiny-gpt2/           a decoder-only text-generation model transformers.js loads from disk: config.json,
                       tokenizer.json, tokenizer_config.json, generation_config.json, onnx/model.onnx
                       (input_ids int64 [batch, seq] -> logits float32 [batch, seq, vocab]; no KV cache, so
                       transformers.js feeds it one new token per decoding step)
  tiny-llama.gguf      a 2-block llama-architecture GGUF with a byte-level BPE vocabulary (the same tokenizer
                       as tiny-gpt2), which node-llama-cpp loads and generates from on the CPU

Needs Python packages `onnx`, `tokenizers`, `gguf` and `numpy` (pip install them into a virtual environment);
run it from the repository root: `python3 scripts/make-tiny-models.py`.
"""

import json
import sys
from pathlib import Path

import gguf
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

OUT = Path(__file__).resolve().parent.parent / "examples" / "models"
SEED = 20260515
EOS = "<|endoftext|>"
VOCAB_SIZE = 384
# Opset 17 and IR version 8: what every onnxruntime-node from 1.14 on reads.
OPSET = [helper.make_opsetid("", 17)]
IR_VERSION = 8

CORPUS = [
    "the quick brown fox jumps over the lazy dog",
    "energy is measured in joules and power in watts",
    "a request spends its energy on prefill and then on decode",
    "tokens in, tokens out: the joules per token of a small model",
    "carbon intensity is grams of carbon dioxide per kilowatt hour",
    "node runs the model on the cpu and wattprint measures it",
    "hello world, hello tracker, hello tiny language model",
] * 8


def weights(rng: np.random.Generator, *shape: int, scale: float = 0.5) -> np.ndarray:
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def save_onnx(graph: onnx.GraphProto, path: Path) -> None:
    model = helper.make_model(graph, opset_imports=OPSET, producer_name="wattprint-tiny-models")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


def make_mlp(rng: np.random.Generator) -> None:
    w1, b1 = weights(rng, 16, 32), weights(rng, 32)
    w2, b2 = weights(rng, 32, 4), weights(rng, 4)
    graph = helper.make_graph(
        [
            helper.make_node("Gemm", ["input", "w1", "b1"], ["hidden"]),
            helper.make_node("Relu", ["hidden"], ["activated"]),
            helper.make_node("Gemm", ["activated", "w2", "b2"], ["logits"]),
        ],
        "mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 16])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 4])],
        [numpy_helper.from_array(a, n) for a, n in [(w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2")]],
    )
    save_onnx(graph, OUT / "mlp.onnx")


def make_tokenizer() -> Tokenizer:
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(CORPUS, trainer=trainer)
    return tokenizer


def make_tiny_gpt2(rng: np.random.Generator, tokenizer: Tokenizer) -> None:
    directory = OUT / "tiny-gpt2"
    vocab = tokenizer.get_vocab_size()
    eos_id = tokenizer.token_to_id(EOS)
    embedding, hidden = 16, 32
    embed = weights(rng, vocab, embedding)
    w1, w2 = weights(rng, embedding, hidden), weights(rng, hidden, vocab)
    bias = weights(rng, vocab, scale=0.1)
    # End of text is never the most likely token, so every generation runs to max_new_tokens.
    bias[eos_id] = -1e4
    graph = helper.make_graph(
        [
            helper.make_node("Gather", ["embed", "input_ids"], ["embedded"]),
            helper.make_node("MatMul", ["embedded", "w1"], ["projected"]),
            helper.make_node("Tanh", ["projected"], ["activated"]),
            helper.make_node("MatMul", ["activated", "w2"], ["scores"]),
            helper.make_node("Add", ["scores", "bias"], ["logits"]),
        ],
        "tiny_gpt2",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch_size", "sequence_length", vocab])],
        [numpy_helper.from_array(a, n) for a, n in [(embed, "embed"), (w1, "w1"), (w2, "w2"), (bias, "bias")]],
    )
    save_onnx(graph, directory / "onnx" / "model.onnx")
    tokenizer.save(str(directory / "tokenizer.json"))
    special = {"bos_token_id": eos_id, "eos_token_id": eos_id}
    write_json(
        directory / "config.json",
        {
            "model_type": "gpt2",
            "architectures": ["GPT2LMHeadModel"],
            "vocab_size": vocab,
            "n_embd": embedding,
            "n_head": 1,
            "n_layer": 1,
            "n_positions": 256,
            **special,
        },
    )
    write_json(
        directory / "tokenizer_config.json",
        {
            "tokenizer_class": "GPT2Tokenizer",
            "bos_token": EOS,
            "eos_token": EOS,
            "unk_token": EOS,
            "add_bos_token": False,
            "model_max_length": 256,
        },
    )
    write_json(directory / "generation_config.json", {**special, "do_sample": False, "max_new_tokens": 16})


def make_tiny_llama(rng: np.random.Generator, tokenizer: Tokenizer) -> None:
    arch = gguf.MODEL_ARCH.LLAMA
    names = gguf.TENSOR_NAMES
    allowed = set(gguf.MODEL_TENSORS[arch])
    embedding, heads, blocks, feed_forward = 64, 4, 2, 128
    vocab = tokenizer.get_vocab_size()
    eos_id = tokenizer.token_to_id(EOS)

    writer = gguf.GGUFWriter(str(OUT / "tiny-llama.gguf"), gguf.MODEL_ARCH_NAMES[arch])
    writer.add_name("wattprint tiny llama (random weights)")
    writer.add_context_length(256)
    writer.add_embedding_length(embedding)
    writer.add_block_count(blocks)
    writer.add_feed_forward_length(feed_forward)
    writer.add_head_count(heads)
    writer.add_head_count_kv(heads)
    writer.add_rope_dimension_count(embedding // heads)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(vocab)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)

    # The byte-level BPE vocabulary, in llama.cpp's "gpt2" tokenizer form: tokens by id, types, merges.
    data = json.loads(tokenizer.to_str())
    by_id = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list([token for token, _ in by_id])
    writer.add_token_types(
        [gguf.TokenType.CONTROL if token == EOS else gguf.TokenType.NORMAL for token, _ in by_id]
    )
    writer.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in data["model"]["merges"]])
    writer.add_bos_token_id(eos_id)
    writer.add_eos_token_id(eos_id)
    writer.add_add_bos_token(False)

    def tensor(kind: gguf.MODEL_TENSOR, array: np.ndarray, block: int | None = None) -> None:
        assert kind in allowed, f"{kind} is not a llama tensor"
        name = names[kind].format(bid=block) + ".weight"
        writer.add_tensor(name, array)

    # numpy shapes are ggml's ne reversed: a [rows, columns] matrix maps columns (input) to rows (output).
    tensor(gguf.MODEL_TENSOR.TOKEN_EMBD, weights(rng, vocab, embedding))
    tensor(gguf.MODEL_TENSOR.OUTPUT_NORM, np.ones(embedding, dtype=np.float32))
    output = weights(rng, vocab, embedding, scale=0.2)
    output[eos_id] = 0.0
    tensor(gguf.MODEL_TENSOR.OUTPUT, output)
    for block in range(blocks):
        tensor(gguf.MODEL_TENSOR.ATTN_NORM, np.ones(embedding, dtype=np.float32), block)
        for kind in (gguf.MODEL_TENSOR.ATTN_Q, gguf.MODEL_TENSOR.ATTN_K, gguf.MODEL_TENSOR.ATTN_V):
            tensor(kind, weights(rng, embedding, embedding, scale=0.1), block)
        tensor(gguf.MODEL_TENSOR.ATTN_OUT, weights(rng, embedding, embedding, scale=0.1), block)
        tensor(gguf.MODEL_TENSOR.FFN_NORM, np.ones(embedding, dtype=np.float32), block)
        tensor(gguf.MODEL_TENSOR.FFN_GATE, weights(rng, feed_forward, embedding, scale=0.1), block)
        tensor(gguf.MODEL_TENSOR.FFN_UP, weights(rng, feed_forward, embedding, scale=0.1), block)
        tensor(gguf.MODEL_TENSOR.FFN_DOWN, weights(rng, embedding, feed_forward, scale=0.1), block)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def write_json(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2) + "\n")


def main() -> None:
    rng = np.random.default_rng(SEED)
    tokenizer = make_tokenizer()
    make_mlp(rng)
    make_tiny_gpt2(rng, tokenizer)
    make_tiny_llama(rng, tokenizer)
    for path in sorted(OUT.rglob("*")):
        if path.is_file():
            size = path.stat().st_size
            assert size < 2_000_000, f"{path} is {size} bytes: over the 2 MB a committed fixture may weigh"
            print(f"{path.relative_to(OUT.parent.parent)}: {size} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
