/*
 * cmd/train.c — `winnow train`: train a proxy classifier on the records'
 * vectors and annotate every record with the scores of its training
 * dynamics. Usage, the option table and the device default; the step is
 * selectors/train_step.c (training and scores: selectors/dynamics.c).
 */
#include "cmd/common.h"
#include "selectors/train_step.h"

static const char *const train_usage[] = {
	"winnow train --label FIELD [--model linear|mlp] [--hidden 64] [--epochs E] [--runs R] [options] [file...]",
	"winnow train --trajectories FILE.npy [--s2l-k K] [--seed S] [file...]",
	"winnow train --label FIELD --model gat [--graph minibatch|lsh] [--batch B] [-k K] [--bits B] [--levels L] [--views V] [--heads H] [--layers L] [file...]",
	"",
	"Train a proxy classifier on the records' vectors; score every record by its dynamics.\n"
	"Mini-batch AdamW on the compute core (--dropout P on the MLP's hidden layer), on winnow.emb\n"
	"(or --npy), classes from FIELD numbered in byte order of the labels (--labels-out keeps the\n"
	"map); every record annotated, averaged over --runs seeds:\n"
	"  el2n        ||softmax(z) - onehot(y)|| after --score-epoch (0: at initialisation)\n"
	"  grand       ||d CE / d (last layer)|| at initialisation = ||p - y|| sqrt(||h||^2 + 1)\n"
	"  forgetting  correct -> wrong transitions between evaluations of the whole set (every\n"
	"              --log-every steps, default once per epoch); never learned: the evaluations\n"
	"  aum         mean of z_y - max other z over the evaluations after the first epoch\n"
	"  vog         variance over the epoch checkpoints of d z_y / d x, mean over elements\n"
	"              (--vog-std: std, Agarwal's form; --vog-norm class|dataset standardises)\n"
	"  pvi         log2 f_x(y) - log2 f_null(y), f_null the same model trained as long on a\n"
	"              zero input (fitted with a 1-d zero input: the same functions)\n"
	"  tracin      sum over the epoch checkpoints of ||d CE / d theta||^2, theta the last\n"
	"              hidden layer (W1, b1; linear: W, b); no learning-rate factor\n"
	"  s2l_cluster k-means (--s2l-k, k-means++ then 25 Lloyd steps) of the per-epoch losses;\n"
	"              `select --balanced-clusters winnow.s2l_cluster --sample N` draws S2L's subset\n"
	"--aum-threshold adds Pleiss et al.'s threshold samples: floor(n / (C + 1)) training records\n"
	"in a fake class for the whole run (every score then from that model), marked\n"
	"winnow.aum_threshold_sample; the other training records get winnow.aum_flag (AUM below the\n"
	"samples' 99th percentile); one pass, where the paper repeats it to flag the samples too.\n"
	"--holdout FRAC keeps records out of training (winnow.holdout), --holdout FILE scores the\n"
	"labelled records of FILE (read under --on-error, quarantine as skip; the classes are then the\n"
	"labels of both, in byte order, so a label only FILE has is a class never right: the proxy of\n"
	"`sources plan --pilot-label`, which `--model linear --epochs 20 --lr 0.01 --batch 32` repeats\n"
	"on a training file of your own); either reports the held-out accuracy per epoch.\n"
	"--save-checkpoints DIR keeps every run's weights as safetensors\n"
	"(DIR/run<R>-epoch<E>, E 0 = initial; run<R>-null for PVI); --from-checkpoints DIR recomputes\n"
	"every score from them without training (the same bytes when evaluations are once per epoch).\n"
	"--trajectories FILE.npy trains nothing: it clusters one row of losses per record (from\n"
	"another framework, the paper's Pythia-70M) into winnow.s2l_cluster.\n"
	"--model gat trains GAIS's proxy (Rustamov et al. 2025), a graph attention network, and writes\n"
	"winnow.gais alone: the attention a record receives, summed over its targets, heads and layers\n"
	"  gais_j = sum_l sum_h sum_{i: j in N(i), i != j} alpha^{l,h}_ij,\n"
	"  alpha_ij = softmax over j in N(i) + {i} of LeakyReLU_0.2(a^T [Theta x_i || Theta x_j])\n"
	"(high: a record its neighbours lean on), from the trained model, averaged over --runs.\n"
	"Beyond the paper's abstract every choice is winnow's own (its text and code were not\n"
	"available): the graph (--graph minibatch): each class's records ordered by their sign code\n"
	"over 16 hyperplanes through the origin drawn by --seed (first plane the top bit; ties by\n"
	"cosine to an anchor record drawn by --seed), cut into ceil(n/B) consecutive chunks, chunk\n"
	"b into mini-batch b (so each batch keeps the class shares); in a batch every record's -k most\n"
	"cosine-similar others (brute force) are its neighbours N(i). The model: --layers GAT layers,\n"
	"the hidden ones --heads heads of hidden/heads units concatenated with ELU, the last --heads\n"
	"heads of C logits averaged; no dropout; weights normal with std sqrt(2/(fan_in+fan_out));\n"
	"double precision; cross-entropy over the training records of a batch, one AdamW step per\n"
	"batch (decay on Theta only), batches in a Philox order per epoch; self-attention is left\n"
	"out of the score. Held-out records (--holdout FRAC) stay in the graph, out of the loss.\n"
	"Defaults for gat: -k 10, --heads 4, --layers 2 (and --batch, --hidden, --epochs, --lr as\n"
	"above); gat runs on the CPU whatever --device. --graph lsh: hierarchical random-projection\n"
	"hashing, winnow's reading of the paper's: --bits hyperplanes through the origin per level\n"
	"(the same for every bucket of a level) split the records by sign code; a bucket over\n"
	"--batch records is split again by the next level's planes, up to --levels; buckets of -k\n"
	"records or fewer, in code order, merge with the next; the buckets are the batches (class\n"
	"shares not kept); --views V hashes V times (planes from --seed + v): every record in V\n"
	"batches, its score the mean over views.\n"
	"Same output at any --threads for a --seed; on CUDA the products run on the GPU and the\n"
	"scores may differ from the CPU's in the last float digits. --device auto (the default)\n"
	"trains on the CPU when --batch x --hidden is below 1048576 (the linear model: --batch x\n"
	"64): such steps are too small for the GPU to win; --device cuda forces it.",
	"",
	"winnow embed debian.jsonl | winnow train --label section --holdout 0.2 > scored.jsonl",
	"winnow train --label section --model linear --epochs 5 --runs 3 --labels-out classes.jsonl emb.jsonl",
	"winnow train --label y --npy emb.npy --log-every 10 --vog-std --vog-norm class data.jsonl",
	"winnow embed data.jsonl | winnow train --label section --model gat --batch 256 -k 10 --heads 4 --layers 2 | winnow select --top 1000 --by winnow.gais",
	"winnow train --trajectories pythia-losses.npy --s2l-k 100 data.jsonl | winnow select --balanced-clusters winnow.s2l_cluster --sample 5000",
	NULL,
};

static void train_options(void *p, struct wn_option *t)
{
	wn_train_step_opts *o = p;
	WN_STEP_TABLE(t,
		OPT_GROUP("Model"),
		OPT_STRING(0, "label", &o->label, "FIELD", "the class of each record (a string or number; required)"),
		OPT_STRING(0, "model", &o->model, "M", "linear, mlp or gat (GAIS; default mlp)"),
		OPT_INT64(0, "hidden", &o->hidden, "H", "mlp hidden width; gat: hidden layer width, split over --heads (default 64)"),
		OPT_STRING(0, "act", &o->act, "A", "mlp activation: relu (default) or gelu"),
		OPT_STRING(0, "labels-out", &o->labels_out, "FILE", "write the class map as JSONL (class, label, records)"),
		OPT_GROUP("GAIS (--model gat)"),
		OPT_STRING(0, "graph", &o->graph, "G", "the record graph: minibatch (default) or lsh"),
		OPT_INT(0, "bits", &o->bits, "B", "--graph lsh: hyperplanes per level (default 8, at most 30)"),
		OPT_INT(0, "views", &o->views, "V", "--graph lsh: independent hashings (seed + v), each record in V batches, scores averaged (default 1)"),
		OPT_INT(0, "levels", &o->levels, "L", "--graph lsh: hashing levels; a bucket over --batch records is hashed again (default 1)"),
		OPT_INT64('k', "neighbours", &o->k, "K", "neighbours of a record in its batch, cosine (default 10; < --batch)"),
		OPT_INT64(0, "heads", &o->heads, "H", "attention heads per layer (default 4; divides --hidden)"),
		OPT_INT(0, "layers", &o->layers, "L", "GAT layers (default 2, at most 8)"),
		OPT_GROUP("Training"),
		OPT_INT(0, "epochs", &o->epochs, "E", "epochs (default 10)"),
		OPT_INT(0, "runs", &o->runs, "R", "independent runs, scores averaged (default 1)"),
		OPT_INT64(0, "seed", &o->seed, "S", "random seed of the split, weights and shuffles (default 0)"),
		OPT_INT64(0, "batch", &o->batch, "B", "mini-batch size (default 128)"),
		OPT_DOUBLE(0, "lr", &o->lr, "LR", "AdamW learning rate (default 0.001)"),
		OPT_DOUBLE(0, "weight-decay", &o->weight_decay, "W", "AdamW decoupled weight decay (default 0.01)"),
		OPT_DOUBLE(0, "dropout", &o->dropout, "P", "mlp: dropout on the hidden layer while training (default 0)"),
		OPT_STRING(0, "holdout", &o->holdout_arg, "FRAC|FILE", "hold out floor(FRAC n) records, or score the labelled records of FILE; accuracy per epoch"),
		OPT_GROUP("Scores"),
		OPT_INT(0, "score-epoch", &o->score_epoch, "E", "EL2N after epoch E (0: at initialisation; default 2)"),
		OPT_INT64(0, "log-every", &o->log_every, "N", "evaluate every record every N steps (default: once per epoch)"),
		OPT_BOOL(0, "vog-std", &o->vog_std, "VoG as per-element standard deviation (Agarwal) instead of variance"),
		OPT_STRING(0, "vog-norm", &o->vog_norm, "N", "standardise VoG: none (default), class or dataset"),
		OPT_BOOL(0, "aum-threshold", &o->aum_threshold, "AUM: move floor(n / (C + 1)) training records to a fake class; flag the records whose AUM is below their 99th percentile (winnow.aum_flag)"),
		OPT_INT64(0, "s2l-k", &o->s2l_k, "K", "S2L: k-means clusters of the loss trajectories, at most n (default 100; 0: none)"),
		OPT_STRING(0, "trajectories", &o->trajectories, "FILE", "S2L only: cluster these losses (.npy, a row per record), no training"),
		OPT_STRING(0, "save-trajectories", &o->save_trajectories, "FILE", "write the per-epoch losses (n x epochs .npy)"),
		OPT_GROUP("Checkpoints"),
		OPT_STRING(0, "save-checkpoints", &o->save_ckpt, "DIR", "keep every run's initial, per-epoch and PVI null weights as safetensors"),
		OPT_STRING(0, "from-checkpoints", &o->from_ckpt, "DIR", "read those weights and recompute the scores without training"),
		WN_VECTOR_OPTIONS(&o->field_emb, &o->npy),
		WN_STREAM_OPTIONS(&o->io),
		WN_COMPUTE_OPTIONS(&o->io));
}

static void train_init(void *p) { wn_train_step_init(p); }
/* --device auto: a small proxy trains on the CPU (wn_train_auto_device). */
static void train_device(wn_train_step_opts *o)
{
	const char *dev = wn_train_auto_device(o, o->io.device);
	if (dev)
		o->io.device = dev;
}

static int train_check(void *p, int *npos, const char **pos, char *err, size_t n)
{
	if (wn_train_step_check(p, err, n))
		return -1;
	train_device(p);
	return 0;
}
static int train_run(void *p, wn_stream *s, wn_step_report *r, char *err, size_t n) { return wn_train_step_run(p, s, r, err, n); }

const wn_step wn_step_train = {"train", train_usage, sizeof(wn_train_step_opts), WN_STEP_WHOLE,
			       train_init, train_options, train_check, train_run, NULL};
