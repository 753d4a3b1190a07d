package dev.sluice.trainer;

/**
 * What the attention of one step looks like: each layer's window (in tokens), the rotary table and the logit
 * scale (attn_scale / √head_dim, times the rotary temperature when the window has grown).
 */
public record AttentionSchedule(int[] windows, Rope.Table rope, double attnScale) {}
