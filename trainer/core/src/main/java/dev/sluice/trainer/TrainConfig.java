package dev.sluice.trainer;

import static dev.sluice.contract.config.YamlConfig.require;

import java.util.List;

/**
 * How to train: tokens, batch-size phases, optimizers and schedules. Every schedule is a pure function of the step
 * ({@link Schedules}).
 *
 * @param tokensPerParam training tokens = tokens_per_param · parameters (2.5 in the seed runs); give this or
 *     train_tokens, not both
 * @param trainTokens explicit training tokens, instead of tokens_per_param
 * @param batchSchedule sequences per step in each equal share of the steps, e.g. [8, 16, 24] across thirds
 * @param microBatch sequences per forward/backward pass; a step accumulates the gradients of its micro-batches
 *     (left out: the whole step in one pass). Changes memory, not the result beyond float rounding.
 * @param muonLr Muon learning rate (hidden matrices)
 * @param muonMomentumStart Muon momentum at step 0 (0.85), warmed up linearly …
 * @param muonMomentumEnd … to this (0.95) …
 * @param muonMomentumWarmupSteps … over this many steps
 * @param muonWeightDecay decoupled weight decay for the Muon matrices
 * @param muonEps ε added to the Frobenius norm before Newton–Schulz (1e-7 as in modded-nanogpt; Levanter 1e-5)
 * @param adamLr Adam learning rate of lm_head; the embedding and scalar groups multiply it
 * @param embeddingLrMultiplier embedding LR ÷ lm_head LR (75)
 * @param scalarLrMultiplier scalars' LR ÷ lm_head LR
 * @param adamBeta1 Adam β1
 * @param adamBeta2 Adam β2
 * @param adamEps Adam ε
 * @param adamWeightDecay decoupled weight decay for the Adam groups
 * @param adamGradClip clip the Adam groups' gradients to this global norm before their update (0: no clipping;
 *     Levanter's MuonConfig clips the AdamW branch to 1)
 * @param cooldownFraction the final share of steps over which the LR falls linearly to 0.1×
 * @param windowStart long attention window at step 0 (tokens)
 * @param windowBlock the long window grows in multiples of this many tokens, up to seq_len
 * @param seed model initialisation
 * @param device {@code cpu}, or a CUDA device: {@code gpu} (the first), {@code gpu:N} or {@code cuda:N}
 * @param devices data parallelism over this host's devices: one model replica per device, each step's micro-batches
 *     spread over them, gradients summed on the first, where the optimizers run ({@code [gpu:0, gpu:1]}, or
 *     {@code [gpu:*]} for every visible GPU; {@code [cpu, cpu]} runs the same math on the CPU). Empty: {@code device}
 *     alone. The first device is {@code device}.
 * @param dtype the master weights' and optimizer state's precision, float32 (float64 for gradient checks), or
 *     bfloat16: float32 master weights and optimizer state with the matmuls, attention and lm_head in bf16
 * @param evalEvery evaluate every K steps (0: only at the end)
 * @param evalSequences validation sequences per evaluation
 * @param peakFlops the device's peak FLOP/s, for MFU (e.g. 989e12 for an H100 in bf16)
 * @param tf32 float32 matmuls on CUDA in TF32 (default true; libtorch reads it from the process environment,
 *     see {@link Devices#requireTf32})
 * @param optimizer {@code muon} (default: Muon on the hidden matrices, Adam on the rest) or {@code adamw} (Adam with
 *     decoupled weight decay on every parameter at adam_lr, its clipping over all gradients: the plain baseline)
 * @param muonCoefficients Newton–Schulz coefficients: {@code simple} (default; one fixed triple, what the seed's runs
 *     and modded-nanogpt used) or {@code quintic} (a five-step schedule, Levanter's later default)
 * @param decayEmbedding whether adam_weight_decay applies to the embedding too (default false: Levanter's default
 *     mask leaves embeddings undecayed; lm_head, the scalars and the matrices are decayed)
 * @param lrBatchExponent when set, each batch phase's peak LR is (batch ÷ the first phase's batch)^exponent, as
 *     modded-nanogpt raises it with its batch-size schedule (0.6: ×1.51, ×1.93 for 8 → 16 → 24); left out: one peak
 * @param windowSchedule when set, the long attention window (tokens) of each equal share of the steps, as
 *     modded-nanogpt's ws_schedule steps it per third (e.g. [64, 128, 256]: the last third trains, and evaluation
 *     runs, at the final window); left out: it grows linearly from window_start to seq_len by window_block
 * @param muonMomentumCooldownSteps when set, Muon's momentum falls linearly from its end value back to its start value
 *     over this many final steps (modded-nanogpt: 50); left out: it stays at the end value
 */
public record TrainConfig(Double tokensPerParam, Long trainTokens, List<Integer> batchSchedule,
                          Integer microBatch, double muonLr, double muonMomentumStart, double muonMomentumEnd,
                          int muonMomentumWarmupSteps, double muonWeightDecay, Double muonEps, double adamLr,
                          double embeddingLrMultiplier, double scalarLrMultiplier, double adamBeta1, double adamBeta2,
                          double adamEps, double adamWeightDecay, double adamGradClip, double cooldownFraction,
                          int windowStart, int windowBlock, long seed, String device, List<String> devices,
                          String dtype, int evalEvery,
                          int evalSequences, double peakFlops, Boolean tf32, String optimizer, String muonCoefficients,
                          Boolean decayEmbedding, Double lrBatchExponent, Integer muonMomentumCooldownSteps,
                          List<Integer> windowSchedule)
        implements java.io.Serializable {

    public TrainConfig {
        batchSchedule = batchSchedule == null ? List.of(8, 16, 24) : List.copyOf(batchSchedule);
        devices = devices == null ? List.of() : List.copyOf(devices);
        require(devices.stream().allMatch(d -> Devices.isValidName(d) || d.equals(Devices.ALL_GPUS)),
                "train.devices", "must list cpu, gpu, gpu:N, cuda:N or gpu:*", devices);
        require(!devices.contains(Devices.ALL_GPUS) || devices.size() == 1, "train.devices",
                "gpu:* stands for every GPU and comes alone", devices);
        String first = devices.isEmpty() ? null : devices.get(0).equals(Devices.ALL_GPUS) ? "gpu:0" : devices.get(0);
        require(device == null || first == null || !Devices.isValidName(device) || Devices.parse(device).equals(Devices.parse(first)),
                "train.device", "must be the first of train.devices (" + first + ") when both are set", device);
        device = device != null ? device : first != null ? first : "cpu";
        dtype = dtype == null ? "float32" : dtype;
        muonEps = muonEps == null ? 1e-7 : muonEps;
        tf32 = tf32 == null || tf32;
        optimizer = optimizer == null ? "muon" : optimizer;
        muonCoefficients = muonCoefficients == null ? "simple" : muonCoefficients;
        decayEmbedding = decayEmbedding != null && decayEmbedding;
        windowSchedule = windowSchedule == null ? List.of() : List.copyOf(windowSchedule);
        require(windowSchedule.stream().allMatch(w -> w > 0), "train.window_schedule", "must list positive windows",
                windowSchedule);
        require(optimizer.equals("muon") || optimizer.equals("adamw"), "train.optimizer", "must be muon or adamw",
                optimizer);
        require(muonCoefficients.equals("simple") || muonCoefficients.equals("quintic"), "train.muon_coefficients",
                "must be simple or quintic", muonCoefficients);
        require(lrBatchExponent == null || lrBatchExponent >= 0, "train.lr_batch_exponent", "must be >= 0",
                lrBatchExponent);
        require(muonMomentumCooldownSteps == null || muonMomentumCooldownSteps > 0, "train.muon_momentum_cooldown_steps",
                "must be > 0 (leave it out for none)", muonMomentumCooldownSteps);
        require((tokensPerParam == null) != (trainTokens == null), "train.train_tokens",
                "or train.tokens_per_param: give exactly one", trainTokens + " / " + tokensPerParam);
        require(trainTokens == null || trainTokens > 0, "train.train_tokens", "must be > 0", trainTokens);
        require(tokensPerParam == null || tokensPerParam > 0, "train.tokens_per_param", "must be > 0", tokensPerParam);
        require(!batchSchedule.isEmpty() && batchSchedule.stream().allMatch(b -> b > 0), "train.batch_schedule",
                "must list positive sequence counts", batchSchedule);
        require(microBatch == null || microBatch > 0, "train.micro_batch", "must be > 0 (leave it out for whole steps)",
                microBatch);
        require(adamLr > 0, "train.adam_lr", "must be > 0", adamLr);
        require(muonLr > 0 || optimizer.equals("adamw"), "train.muon_lr", "must be > 0 (train.optimizer is muon)",
                muonLr);
        require(muonMomentumStart >= 0 && muonMomentumEnd < 1, "train.muon_momentum_*", "must be in [0, 1)",
                muonMomentumStart + ".." + muonMomentumEnd);
        require(adamBeta1 >= 0 && adamBeta1 < 1 && adamBeta2 >= 0 && adamBeta2 < 1, "train.adam_beta1/2",
                "must be in [0, 1)", adamBeta1 + "/" + adamBeta2);
        require(adamEps > 0, "train.adam_eps", "must be > 0", adamEps);
        require(muonEps > 0, "train.muon_eps", "must be > 0", muonEps);
        require(adamGradClip >= 0, "train.adam_grad_clip", "must be >= 0 (0: no clipping)", adamGradClip);
        require(cooldownFraction >= 0 && cooldownFraction <= 1, "train.cooldown_fraction", "must be in [0, 1]",
                cooldownFraction);
        require(windowStart > 0 && windowBlock > 0, "train.window_start/window_block", "must be > 0",
                windowStart + "/" + windowBlock);
        require(dtype.equals("float32") || dtype.equals("bfloat16") || dtype.equals("float64"), "train.dtype",
                "must be float32, bfloat16 or float64", dtype);
        require(Devices.isValidName(device), "train.device", "must be cpu, gpu, gpu:N or cuda:N", device);
        require(evalSequences >= 0, "train.eval_sequences", "must be >= 0", evalSequences);
    }
}
