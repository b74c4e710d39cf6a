#!/usr/bin/env python3
"""Peer side of the evaluation-throughput bench: OpenLM's decoder in plain PyTorch (CPU, f32, one thread).

Usage:
  eval_peers.py DIR                          time the PyTorch peers on the bench folder DIR (written by sluice)
  eval_peers.py --check-golden GOLDEN_DIR    check this model against OpenLM's own logits first (shared/golden/openlm)
  eval_peers.py --check-golden GOLDEN_DIR DIR   both: the check, then the bench (the bench only runs if the check passes)

The model is written here from OpenLM's architecture (open_lm/model.py, norms.py, positional_embedding/rotary.py,
attention.py::torch_attn; described in shared/golden/openlm/README.md), with no OpenLM import: OpenLM is not on PyPI
in a usable form and pulls in xformers. `--check-golden` shows that it computes OpenLM's numbers: it reproduces the
golden logits that OpenLM itself produced, within fp32 noise.

DIR holds:
  models.json        JSON list of model names M, e.g. ["tiny", "micro"]
  M.safetensors      f32 weights under OpenLM's state_dict names (`…pos_embed.inv_freq` buffers optional)
  M.json             the OpenLM model JSON (hidden_dim, n_layers, n_heads, seq_len, vocab_size, …); absent keys take
                     DCLM's values, as sluice's `OpenLmConfig` does (qk_norm true, ffn_type swiglu, no post-embed norm,
                     no weight tying)
  sequences.jsonl    one {"example": E, "ids": [...], "target_start": k} per line: ids[k:] are scored, token p by
                     log_softmax(logits[p - 1])[ids[p]]; 1 <= k <= len(ids)
  bench.json         {"batch_tokens": 4096, "repeats": R}

Batching is sluice's (eval_harness/src/score.rs): sequences sorted by (length descending, input index ascending);
a batch starts at the first unbatched sequence, of length L, and takes it and the following sequences up to
max(1, batch_tokens // L) in all; each batch is right-padded with id 0 to its first (longest) length. Padding cannot
change a sequence's logits: attention is causal.

Two peers per model, both under torch.inference_mode() with torch.set_num_threads(1):
  torch_full  the model's natural forward, as OpenLM's Transformer.forward returns it: logits [batch, time, vocab]
              for every position of the padded batch; then log_softmax over the whole tensor and a gather at the
              scored positions.
  torch_rows  what sluice does: the final-norm hidden states of the scored positions are gathered first, and only
              those rows go through the output projection and log_softmax.
Each is warmed up on one batch (the first, longest one), then scores ALL sequences `repeats` times; the best
(minimum) time.perf_counter() repeat is reported. The timed region is the whole scoring: building the padded id
tensors, the forward passes, log_softmax, gather and conversion of the results to Python floats.

Writes DIR/peers.json:
  {"torch_version": "...", "threads": 1,
   "models": {M: {"torch_full": {"seconds", "examples", "sequences", "tokens", "repeat_seconds"},
                  "torch_rows": {... same keys ...},
                  "logprob_sum": float64 sum of the f32 scored log-probs of torch_full,
                  "max_abs_diff_rows_vs_full": largest |torch_rows - torch_full| over all scored log-probs,
                  "logprobs_file": "M.torch_logprobs.jsonl"}}}
("tokens" counts the ids of all sequences, unpadded; "repeat_seconds" lists every timed repeat.)
and DIR/M.torch_logprobs.jsonl: one JSON list per sequence, in input order, of its scored log-probs (torch_full's
f32 values, written as exact decimals of the f32), so that the Rust side can check agreement with its own numbers.
"""
import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

# One thread everywhere, set before torch is imported (OpenMP reads it at start-up); set_num_threads below as well.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from safetensors.torch import load_file  # noqa: E402

THREADS = 1
NORM_EPS = 1e-5  # OpenLM's Params.norm_eps: never read from the model JSON
ROPE_BASE = 10000.0


# ----------------------------------------------------------------------------------------------------------------
# Model config
# ----------------------------------------------------------------------------------------------------------------

def load_config(path):
    """An OpenLM model JSON, with DCLM's values for the keys DCLM's JSONs leave out (as sluice's config.rs)."""
    raw = json.loads(Path(path).read_text())
    cfg = {
        "hidden_dim": int(raw["hidden_dim"]),
        "n_layers": int(raw["n_layers"]),
        "n_heads": int(raw["n_heads"]),
        "seq_len": int(raw["seq_len"]),
        "vocab_size": int(raw["vocab_size"]),
        "post_embed_norm": bool(raw.get("post_embed_norm", False)),
        "weight_tying": bool(raw.get("weight_tying", False)),
        # DCLM passes --qk-norm on the command line; its model JSONs never set it.
        "qk_norm": bool(raw.get("qk_norm", True)),
        "ffn_type": raw.get("ffn_type", "swiglu"),
        "model_norm": raw.get("model_norm", "gain_only_lp_layer_norm"),
        "positional_embedding_type": raw.get("positional_embedding_type", "rotary"),
        "moe_freq": int(raw.get("moe_freq", 0)),
    }
    # Refuse what this port does not compute, rather than compute something else.
    if cfg["ffn_type"] not in ("swiglu", "swiglu_torch"):
        raise SystemExit(f"{path}: ffn_type {cfg['ffn_type']!r} not supported (swiglu / swiglu_torch only)")
    if cfg["model_norm"] not in ("gain_only_lp_layer_norm", "gain_only_layer_norm"):
        raise SystemExit(f"{path}: model_norm {cfg['model_norm']!r} not supported")
    if cfg["positional_embedding_type"] != "rotary":
        raise SystemExit(f"{path}: positional_embedding_type {cfg['positional_embedding_type']!r} not supported")
    if cfg["moe_freq"] != 0:
        raise SystemExit(f"{path}: mixture of experts (moe_freq {cfg['moe_freq']}) not supported")
    if cfg["hidden_dim"] % cfg["n_heads"] or (cfg["hidden_dim"] // cfg["n_heads"]) % 2:
        raise SystemExit(f"{path}: hidden_dim must be n_heads x an even head_dim")
    return cfg


# ----------------------------------------------------------------------------------------------------------------
# OpenLM's Transformer, f32, inference only
# ----------------------------------------------------------------------------------------------------------------

def layer_norm(x, gain):
    """OpenLM's gain-only (LP)LayerNorm: mean removed, biased variance, eps 1e-5, gain, no bias."""
    return F.layer_norm(x, (x.shape[-1],), gain, None, NORM_EPS)


def rotate_half(x):
    """GPT-NeoX rotate-half: [x1, x2] -> [-x2, x1] over the last (head) dimension."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class OpenLM(torch.nn.Module):
    """OpenLM's `Transformer` with `torch_attn` attention, written with torch ops from its state_dict."""

    def __init__(self, cfg, state):
        super().__init__()
        self.cfg = cfg
        d, n_heads = cfg["hidden_dim"], cfg["n_heads"]
        self.n_heads, self.head_dim = n_heads, d // n_heads
        # A loader accepts the `module.` (DDP) and `_orig_mod.` (torch.compile) prefixes, as OpenLM's does.
        state = {k.replace("module.", "", 1).replace("_orig_mod.", "", 1): v.float() for k, v in state.items()}

        def take(name, shape):
            if name not in state:
                raise SystemExit(f"missing tensor {name}")
            t = state.pop(name)
            if tuple(t.shape) != tuple(shape):
                raise SystemExit(f"{name}: shape {tuple(t.shape)}, expected {tuple(shape)}")
            return t.contiguous()

        v = cfg["vocab_size"]
        h = 256 * math.ceil(int(8 * d / 3) / 256)  # OpenLM's SwiGLU width (Block.__init__)
        self.tok_embeddings = take("tok_embeddings.weight", (v, d))
        self.post_embed_norm = take("post_embed_norm.weight", (d,)) if cfg["post_embed_norm"] else None
        # OpenLM's default frequencies; a checkpoint's persistent `inv_freq` buffer replaces them when present, as
        # load_state_dict does in OpenLM.
        default_inv_freq = 1.0 / (ROPE_BASE ** (torch.arange(0, self.head_dim, 2).float() / self.head_dim))
        self.layers = []
        for i in range(cfg["n_layers"]):
            p = f"layers.{i}."
            inv_freq = state.pop(p + "attention.pos_embed.inv_freq", default_inv_freq).float()
            self.layers.append({
                "in_proj": take(p + "attention.in_proj.weight", (3 * d, d)),
                "out_proj": take(p + "attention.out_proj.weight", (d, d)),
                "q_norm": take(p + "attention.q_norm.weight", (d,)) if cfg["qk_norm"] else None,
                "k_norm": take(p + "attention.k_norm.weight", (d,)) if cfg["qk_norm"] else None,
                "inv_freq": inv_freq,
                "w12": take(p + "feed_forward.w12.weight", (2 * h, d)),
                "w3": take(p + "feed_forward.w3.weight", (d, h)),
                "attention_norm": take(p + "attention_norm.weight", (d,)),
                "ffn_norm": take(p + "ffn_norm.weight", (d,)),
            })
        self.norm = take("norm.weight", (d,))
        if cfg["weight_tying"]:
            state.pop("output.weight", None)
            self.output = self.tok_embeddings
        else:
            self.output = take("output.weight", (v, d))
        if state:
            raise SystemExit(f"unexpected tensors: {sorted(state)[:5]}…")
        self._rope_cache = {}

    def rope_tables(self, inv_freq, length):
        """OpenLM's RotaryWithCast tables: freqs = t ⊗ inv_freq (fp32), emb = cat(freqs, freqs); cos, sin as
        [1, T, 1, head_dim] for activations [B, T, heads, head_dim]. Cached per (frequencies, length)."""
        key = (tuple(inv_freq.tolist()), length)
        if key not in self._rope_cache:
            t = torch.arange(length, dtype=torch.float32)
            freqs = torch.einsum("i,j->ij", t, inv_freq)
            emb = torch.cat((freqs, freqs), dim=-1)
            self._rope_cache[key] = (emb.cos()[None, :, None, :], emb.sin()[None, :, None, :])
        return self._rope_cache[key]

    def attention(self, x, layer):
        """CustomAttn: fused q|k|v projection, QK-norm over the whole [.., d] projection (all heads jointly),
        head split, RoPE, causal SDPA scaled by 1/sqrt(head_dim), out_proj."""
        b, t, d = x.shape
        q, k, v = F.linear(x, layer["in_proj"]).chunk(3, dim=-1)
        if layer["q_norm"] is not None:
            q = layer_norm(q, layer["q_norm"])
            k = layer_norm(k, layer["k_norm"])
        q = q.view(b, t, self.n_heads, self.head_dim)
        k = k.view(b, t, self.n_heads, self.head_dim)
        v = v.view(b, t, self.n_heads, self.head_dim)
        cos, sin = self.rope_tables(layer["inv_freq"], t)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        # torch_attn: [B, T, H, hd] -> [B, H, T, hd], SDPA with is_causal, back.
        out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True)
        out = out.transpose(1, 2).reshape(b, t, d)
        return F.linear(out, layer["out_proj"])

    @staticmethod
    def feed_forward(x, layer):
        """SwiGLUTorch: w12 rows [0, h) are the gate (SiLU), rows [h, 2h) the up projection; w3(silu(gate) * up)."""
        gate, up = F.linear(x, layer["w12"]).chunk(2, dim=-1)
        return F.linear(F.silu(gate) * up, layer["w3"])

    def hidden_states(self, ids):
        """Final-norm hidden states [B, T, d] for ids [B, T] (OpenLM's second return value)."""
        x = F.embedding(ids, self.tok_embeddings)
        if self.post_embed_norm is not None:
            x = layer_norm(x, self.post_embed_norm)
        for layer in self.layers:
            h = x + self.attention(layer_norm(x, layer["attention_norm"]), layer)
            x = h + self.feed_forward(layer_norm(h, layer["ffn_norm"]), layer)
        return layer_norm(x, self.norm)

    def logits(self, hidden):
        """The untied output projection, logits cast to f32 as OpenLM does."""
        return F.linear(hidden, self.output).float()

    def forward(self, ids):
        """OpenLM's forward: logits [B, T, vocab] for every position."""
        return self.logits(self.hidden_states(ids))


# ----------------------------------------------------------------------------------------------------------------
# Scoring, as sluice's score_sequences batches it
# ----------------------------------------------------------------------------------------------------------------

def make_batches(sequences, batch_tokens):
    """sluice's batches: indices sorted by (length desc, index asc), cut into runs of max(1, budget // first length)."""
    order = sorted(range(len(sequences)), key=lambda i: (-len(sequences[i]["ids"]), i))
    batches, start = [], 0
    budget = max(1, batch_tokens)
    while start < len(order):
        longest = max(1, len(sequences[order[start]]["ids"]))
        end = min(start + max(1, budget // longest), len(order))
        batches.append(order[start:end])
        start = end
    return batches


def score_batch(model, sequences, members, rows_only):
    """Scored log-probs of each member sequence (lists of floats, f32 values) from one right-padded forward pass."""
    time_len = max(len(sequences[i]["ids"]) for i in members)
    ids = torch.zeros((len(members), time_len), dtype=torch.long)  # padding id 0
    rows, targets, counts = [], [], []
    for b, i in enumerate(members):
        seq = sequences[i]["ids"]
        k = sequences[i]["target_start"]
        ids[b, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        rows.extend(b * time_len + p - 1 for p in range(k, len(seq)))
        targets.extend(seq[k:])
        counts.append(len(seq) - k)
    rows = torch.tensor(rows, dtype=torch.long)
    targets = torch.tensor(targets, dtype=torch.long)
    if rows_only:
        # sluice's way: the output projection and log_softmax on the scored rows only.
        hidden = model.hidden_states(ids).reshape(-1, model.cfg["hidden_dim"])
        logprobs = F.log_softmax(model.logits(hidden.index_select(0, rows)), dim=-1)
        picked = logprobs.gather(1, targets[:, None])[:, 0]
    else:
        # The natural forward: logits for every (padded) position, log_softmax everywhere, then the scored entries.
        logprobs = F.log_softmax(model(ids), dim=-1).reshape(-1, model.cfg["vocab_size"])
        picked = logprobs[rows, targets]
    values = picked.tolist()
    out, at = [], 0
    for n in counts:
        out.append(values[at : at + n])
        at += n
    return out


def score_all(model, sequences, batches, rows_only):
    """Scored log-probs of every sequence, in input order."""
    results = [None] * len(sequences)
    for members in batches:
        for i, lp in zip(members, score_batch(model, sequences, members, rows_only)):
            results[i] = lp
    return results


def time_peer(model, sequences, batches, rows_only, repeats):
    """Warm up on the first batch, then time `repeats` full scorings; (best seconds, all repeats, last results)."""
    score_batch(model, sequences, batches[0], rows_only)
    times, results = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        results = score_all(model, sequences, batches, rows_only)
        times.append(time.perf_counter() - start)
    return min(times), times, results


def read_sequences(path):
    sequences = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f):
            if not line.strip():
                continue
            s = json.loads(line)
            ids, k = [int(x) for x in s["ids"]], int(s["target_start"])
            if not 1 <= k <= len(ids):
                raise SystemExit(f"{path}:{n + 1}: target_start {k} of {len(ids)} ids (need a context token first)")
            sequences.append({"example": s["example"], "ids": ids, "target_start": k})
    if not sequences:
        raise SystemExit(f"{path}: no sequences")
    return sequences


def run_bench(bench_dir):
    bench_dir = Path(bench_dir)
    names = json.loads((bench_dir / "models.json").read_text())
    settings = json.loads((bench_dir / "bench.json").read_text())
    batch_tokens, repeats = int(settings["batch_tokens"]), max(1, int(settings["repeats"]))
    sequences = read_sequences(bench_dir / "sequences.jsonl")
    batches = make_batches(sequences, batch_tokens)
    n_examples = len({json.dumps(s["example"], sort_keys=True) for s in sequences})
    n_tokens = sum(len(s["ids"]) for s in sequences)
    counts = {"examples": n_examples, "sequences": len(sequences), "tokens": n_tokens}
    print(f"{len(sequences)} sequences ({n_examples} examples, {n_tokens} tokens) in {len(batches)} batches "
          f"of <= {batch_tokens} tokens; {repeats} repeats, best kept", flush=True)

    report = {"torch_version": torch.__version__, "threads": torch.get_num_threads(), "models": {}}
    for name in names:
        cfg = load_config(bench_dir / f"{name}.json")
        model = OpenLM(cfg, load_file(str(bench_dir / f"{name}.safetensors")))
        entry = {}
        with torch.inference_mode():
            full_s, full_all, full_lp = time_peer(model, sequences, batches, False, repeats)
            rows_s, rows_all, rows_lp = time_peer(model, sequences, batches, True, repeats)
        entry["torch_full"] = {"seconds": full_s, **counts, "repeat_seconds": full_all}
        entry["torch_rows"] = {"seconds": rows_s, **counts, "repeat_seconds": rows_all}
        entry["logprob_sum"] = math.fsum(float(x) for lp in full_lp for x in lp)
        entry["max_abs_diff_rows_vs_full"] = max(
            (abs(a - b) for la, lb in zip(full_lp, rows_lp) for a, b in zip(la, lb)), default=0.0)
        logprobs_file = f"{name}.torch_logprobs.jsonl"
        with open(bench_dir / logprobs_file, "w", encoding="utf-8") as f:
            for lp in full_lp:
                f.write(json.dumps(lp) + "\n")
        entry["logprobs_file"] = logprobs_file
        report["models"][name] = entry
        print(f"{name}: torch_full {full_s:.3f} s ({n_tokens / full_s:,.0f} tok/s), torch_rows {rows_s:.3f} s "
              f"({n_tokens / rows_s:,.0f} tok/s); logprob sum {entry['logprob_sum']:.6f}; "
              f"rows vs full max |diff| {entry['max_abs_diff_rows_vs_full']:.2e}", flush=True)
    out = bench_dir / "peers.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")


# ----------------------------------------------------------------------------------------------------------------
# Golden check against OpenLM's own output
# ----------------------------------------------------------------------------------------------------------------

def check_golden(golden_dir, logit_tol=1e-5, logprob_tol=1e-5):
    """Runs the golden tiny model on forward.json's inputs and compares with OpenLM's logits and log-probs."""
    golden_dir = Path(golden_dir)
    cfg_files = sorted(golden_dir.glob("openlm_*.json"))
    if len(cfg_files) != 1:
        raise SystemExit(f"{golden_dir}: expected one openlm_*.json model config, found {len(cfg_files)}")
    cfg = load_config(cfg_files[0])
    model = OpenLM(cfg, load_file(str(golden_dir / "model_init.safetensors")))
    forward = json.loads((golden_dir / "forward.json").read_text())
    gold = load_file(str(golden_dir / "forward_logits.safetensors"))
    ids = torch.tensor(forward["input_ids"], dtype=torch.long)
    targets = torch.tensor(forward["targets"], dtype=torch.long)
    positions = torch.tensor(forward["positions"], dtype=torch.long)
    with torch.inference_mode():
        logits = model(ids)  # [4, 128, vocab]
        logprobs = F.log_softmax(logits, dim=-1).gather(-1, targets[..., None])[..., 0]
        # rows-only path on the same inputs (the bench's torch_rows)
        hidden = model.hidden_states(ids)
        rows_lp = F.log_softmax(model.logits(hidden), dim=-1).gather(-1, targets[..., None])[..., 0]
    sel = gold["logits_selected"]  # [n_seq, n_pos, vocab]: `full_logits_sequences` at `positions`
    seqs = torch.tensor(forward.get("full_logits_sequences", list(range(sel.shape[0]))), dtype=torch.long)
    ours = logits[seqs][:, positions]
    logit_diff = (ours - sel).abs().max().item()
    lp_gold = torch.tensor(forward["next_token_logprob"], dtype=torch.float32)
    lp_diff = (logprobs - lp_gold).abs().max().item()
    rows_diff = (rows_lp - lp_gold).abs().max().item()
    ce = -logprobs.double().mean().item()
    ce_gold = forward["mean_cross_entropy_from_logprobs_f64"]
    print(f"golden check ({cfg_files[0].name}): logits max |diff| {logit_diff:.2e} over {sel.numel()} values, "
          f"log-probs max |diff| {lp_diff:.2e} (rows path {rows_diff:.2e}) over {lp_gold.numel()}, "
          f"mean CE {ce:.9f} vs {ce_gold:.9f}", flush=True)
    ok = logit_diff <= logit_tol and lp_diff <= logprob_tol and rows_diff <= logprob_tol
    if not ok:
        raise SystemExit(f"golden check FAILED (tolerances: logits {logit_tol}, log-probs {logprob_tol})")
    return {"logits_max_abs_diff": logit_diff, "logprobs_max_abs_diff": lp_diff}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", nargs="?", help="bench folder written by sluice (models.json, sequences.jsonl, …)")
    parser.add_argument("--check-golden", metavar="GOLDEN_DIR",
                        help="first compare with OpenLM's golden logits (shared/golden/openlm); fail if off")
    args = parser.parse_args(argv)
    if not args.dir and not args.check_golden:
        parser.error("give DIR, --check-golden GOLDEN_DIR, or both")
    torch.set_num_threads(THREADS)
    try:
        torch.set_num_interop_threads(THREADS)
    except RuntimeError:
        pass  # already set (only possible before any parallel work)
    if args.check_golden:
        check_golden(args.check_golden)
    if args.dir:
        run_bench(args.dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
