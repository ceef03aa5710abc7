# tests/golden/cases.sh — the golden cases: every Examples line of every
# `winnow <command> --help`, README's and pipelines/demo.sh's pipelines, and
# one case or more per option family, run on slices of fixtures/debian-2000.jsonl
# and the zipfit/dsir/cluster/models fixtures (inputs: golden_inputs in golden.sh).
#
# Owns: the list. Borrows: golden/golden_fails/dbdump/winnow from golden.sh.
# Each case is data, like a line of jq.test:
#   golden NAME 'COMMAND' [FILE...]       exits 0; stdout, count lines, FILEs golden
#   golden_fails NAME CODE 'COMMAND'      exits CODE; stdout and stderr golden
# COMMAND runs under bash with pipefail in a folder holding the inputs, where
# `winnow` is the binary under test. Determinism is pinned here, not assumed:
# --device cpu and --threads 2 on every command that computes, explicit seeds
# where the example has one (the default seed elsewhere is part of the contract),
# and golden_pin_env (LC_ALL=C, TZ=UTC, WINNOW_DEVICE=cpu, OMP/OPENBLAS threads).
# Example sizes (k 1000, --top 1000, ...) are scaled to the slices; the shape
# of each example is kept. Names never equal an input's name (cases write
# into a folder of links to the shared inputs).

CPU='--device cpu --threads 2'

# --- help: the usage text is part of the interface ---------------------------------
golden help 'for c in "" cat stats select store export embed vectors "vectors export" "vectors import" cluster "cluster kmeans" "cluster hkmeans" "cluster graph" score "score zipfit" "score dsir" device train; do echo "== winnow $c --help"; winnow $c --help; done; echo "== winnow help"; winnow help'
golden help-steps 'for c in "score leverage" "score lewis" "score kmeans-sensitivity" coreset dedup "dedup exact" "dedup minhash" "dedup semantic" "select kmq" "select mig" "select rds" "batches tas"; do echo "== winnow $c --help"; winnow $c --help; done'
golden help-steps2 'for c in "select facility-location" "select volume" "select prototypes" "select dbp" eval sources "sources qqt" "sources ot" "sources plan" "db hash" run; do echo "== winnow $c --help"; winnow $c --help; done'
golden_fails unknown-command 2 'winnow frobnicate'
golden_fails no-command 2 'winnow'

# --- cat --------------------------------------------------------------------------
golden cat-example-gz-zst 'winnow cat corpus.jsonl.gz part2.jsonl.zst > all.jsonl' all.jsonl
golden cat-example-csv-stats 'winnow cat --csv table.csv --on-error skip | winnow stats'
golden cat-to-csv-columns 'winnow cat --to csv --columns id,section,installed_kb debian.jsonl.gz'
golden cat-to-csv-first-fields 'winnow cat --to csv nightly.jsonl'
golden cat-csv-to-csv 'winnow cat --csv --to csv --on-error skip table.csv'
golden cat-output-file 'winnow cat -o copy.jsonl corpus.jsonl.gz nightly.jsonl.zst' copy.jsonl
golden cat-stream-stdin 'winnow cat --stream - < corpus.jsonl.zst'
golden cat-quarantine 'winnow cat --quarantine quarantined.jsonl mixed.jsonl' quarantined.jsonl
golden cat-max-record-skip 'winnow cat --max-record 400 --on-error skip corpus.jsonl'
golden cat-field-skip 'winnow cat --field section --on-error skip mixed.jsonl'
golden cat-bad-inputs-skip 'winnow cat --on-error skip bad-blank-lines.jsonl bad-bom.jsonl bad-crlf.jsonl bad-good3.jsonl bad-invalid-utf8.jsonl bad-malformed.jsonl bad-missing-text.jsonl bad-no-final-newline.jsonl bad-not-object.jsonl'
golden cat-quiet 'winnow cat -q nightly.jsonl.zst'
golden_fails cat-fails-malformed 1 'winnow cat mixed.jsonl'
golden_fails cat-fails-truncated-gz 1 'winnow cat nightly.jsonl bad-truncated.jsonl.gz'
golden_fails cat-fails-corrupt-zst 1 'winnow cat bad-corrupt.jsonl.zst'
golden_fails cat-fails-missing-file 1 'winnow cat no-such-file.jsonl'
golden_fails cat-fails-usage 2 'winnow cat --to xml nightly.jsonl'

# --- stats ------------------------------------------------------------------------
golden stats-example-gz 'winnow stats debian.jsonl.gz'
golden stats-example-json-annotations "winnow cluster kmeans -k 100 $CPU < emb.jsonl | winnow stats --json | jq .annotations"
golden stats-json 'winnow stats --json scored-dsir.jsonl.zst'
golden stats-annotations 'winnow cat clustered.jsonl emb.jsonl in.jsonl | winnow stats'
golden stats-field-output 'winnow stats --field section -o report.txt --on-error skip mixed.jsonl' report.txt
golden stats-csv 'winnow stats --csv --on-error skip table.csv'
golden stats-stream-max-record-quiet 'winnow stats -q --stream --max-record 500 --on-error skip corpus.jsonl'

# --- select -----------------------------------------------------------------------
golden select-example-top 'winnow select --top 100 --by winnow.zipfit scored-zipfit.jsonl > aligned.jsonl' aligned.jsonl
golden select-example-sample-log-weights 'winnow select --sample 500 --weights winnow.dsir --log-weights --seed 1 scored-dsir.jsonl.zst'
golden select-example-per-cap-by 'winnow select --per section --cap 20 --by installed_kb debian.jsonl.gz'
golden select-example-epochs 'winnow select --epochs 3 --frac 0.1 --seed 7 debian.jsonl > rs2.jsonl' rs2.jsonl
golden select-example-mix-upweight 'winnow select --mix section --temperature 3 --upweight debian.jsonl.gz'
golden select-example-balanced 'winnow select --balanced --cap 100 --seed 1 clustered.jsonl'
golden select-frac-by-asc 'winnow select --frac 0.05 --by installed_kb --asc debian.jsonl'
golden select-min-max-top-ties 'winnow select --min installed_kb=100 --max installed_kb=2000 --min winnow.score=10 --top 30 --by winnow.score in.jsonl'
golden select-min-max-only 'winnow select --min winnow.score=50 --max winnow.score=60 in.jsonl'
golden select-sample-default-seed 'winnow select --sample 40 debian.jsonl'
golden select-frac-random 'winnow select --frac 0.02 --seed 5 debian.jsonl'
golden select-weights-linear 'winnow select --sample 50 --weights installed_kb --seed 2 debian.jsonl'
golden select-per-first 'winnow select --per section --cap 2 debian.jsonl'
golden select-per-sample 'winnow select --per section --sample 1 --seed 3 debian.jsonl'
golden select-per-top 'winnow select --per priority --top 3 --by installed_kb debian.jsonl'
golden select-per-frac 'winnow select --per section --frac 0.01 --seed 1 debian.jsonl'
golden select-per-cap-weights 'winnow select --per section --cap 2 --weights installed_kb --seed 4 debian.jsonl'
golden select-epochs-sample 'winnow select --epochs 2 --sample 10 --seed 1 corpus.jsonl'
golden select-mix-sample 'winnow select --mix section --temperature 2 --sample 100 --seed 4 debian.jsonl'
golden select-balanced-hier 'winnow select --balanced --cap 50 --hier winnow.hcluster --seed 2 clustered.jsonl'
golden select-csv-output 'winnow select --csv table.csv --on-error skip --sample 5 --seed 1 -o picked.jsonl' picked.jsonl
golden select-stream-quarantine 'winnow select --stream --quarantine q.jsonl --top 3 --by installed_kb mixed.jsonl' q.jsonl
golden select-field-max-record 'winnow select -q --field section --max-record 1000 --on-error skip --sample 10 --seed 2 mixed.jsonl corpus.jsonl'
golden_fails select-fails-no-by 2 'winnow select --top 10 debian.jsonl'
golden_fails select-fails-missing-key 1 'winnow select --top 10 --by winnow.zipfit debian.jsonl'

# --- store and export (the table read back by winnow export and by sqlite3) -----------
golden store-example-best 'winnow select --top 100 --by winnow.score in.jsonl | winnow store out.db --table best && winnow export out.db --table best > best.jsonl && dbdump out.db best > best.dump' best.jsonl best.dump
golden store-example-append 'winnow store runs.db --mode append --table nightly crawl-*.jsonl.zst && winnow store runs.db --mode append --table nightly crawl-1.jsonl.zst && winnow export runs.db --table nightly > nightly-out.jsonl && dbdump runs.db nightly > nightly.dump' nightly-out.jsonl nightly.dump
golden store-seed-export-csv 'winnow store sel.db --seed 42 corpus.jsonl && winnow export sel.db > back.jsonl && winnow export sel.db --to csv -o selection.csv && dbdump sel.db selection > sel.dump' back.jsonl selection.csv sel.dump
golden store-annotated-columns "winnow cluster kmeans -k 8 --seed 2 $CPU < emb.jsonl | winnow score zipfit --threads 2 --target evals.jsonl | winnow store ann.db && winnow export ann.db --to csv && dbdump ann.db selection > ann.dump" ann.dump
golden store-replace 'winnow store r.db corpus.jsonl && winnow store r.db --mode replace nightly.jsonl && winnow export r.db && dbdump r.db selection > r.dump' r.dump
golden store-csv-skip-field 'winnow store c.db --csv --on-error skip --field section --busy-timeout 100 -t csvrows table.csv && winnow export c.db -t csvrows --to csv && dbdump c.db csvrows > c.dump' c.dump
golden store-quarantine 'winnow store q.db --quarantine q.jsonl mixed.jsonl && dbdump q.db selection > q.dump' q.jsonl q.dump
golden store-allow-empty 'winnow store e.db --allow-empty empty.jsonl && dbdump e.db selection > e.dump' e.dump
golden store-max-record 'winnow store m.db --max-record 500 --on-error skip corpus.jsonl && dbdump m.db selection > m.dump' m.dump
golden store-export-stream-quiet 'winnow store -q x.db nightly.jsonl && winnow export --stream x.db && winnow export -q x.db --to csv'
golden_fails store-fails-empty 1 'winnow store e.db empty.jsonl'
golden_fails store-fails-usage 2 'winnow store x.db --mode merge nightly.jsonl'
golden_fails export-fails-no-table 1 'winnow store -q x.db nightly.jsonl && winnow export x.db --table missing'
golden_fails export-fails-no-db 1 'winnow export no-such.db'

# --- embed ------------------------------------------------------------------------
golden embed-example-hash "winnow embed $CPU corpus.jsonl > embedded.jsonl" embedded.jsonl
golden embed-example-idf "winnow embed $CPU --fit-idf idf.txt corpus.jsonl && winnow embed $CPU --idf idf.txt corpus.jsonl" idf.txt
golden_float embed-example-model-npy "winnow embed --model models/bert-tiny $CPU --npy emb.npy --no-annotate nightly.jsonl.zst" emb.npy
golden_float embed-example-model-cache-kmeans "winnow embed --model models/bert-tiny $CPU --cache emb.db nightly.jsonl | winnow cluster kmeans -k 5 $CPU && winnow embed --model models/bert-tiny $CPU --cache emb.db nightly.jsonl > again.jsonl 2> again.err" again.jsonl again.err
golden embed-hash-options "winnow embed $CPU --dim 64 --char-ngrams 3,5 --vec-dtype f16 --npy h.npy corpus.jsonl" h.npy
golden embed-hash-cache "winnow embed $CPU --dim 32 --cache c.db nightly.jsonl > first.jsonl && winnow embed $CPU --dim 32 --cache c.db corpus.jsonl 2> second.err" first.jsonl second.err
golden_float embed-model-cls-no-normalize "winnow embed --model models/bert-tiny --pooling cls --no-normalize --batch 7 $CPU nightly.jsonl"
golden_float embed-model-mean-f16 "winnow embed --model models/bert-tiny --pooling mean --normalize --vec-dtype f16 --batch 64 $CPU --npy m.npy nightly.jsonl" m.npy
golden embed-csv-output "winnow embed $CPU --csv table.csv --on-error skip --dim 32 -o e.jsonl" e.jsonl
golden embed-field-quiet "winnow embed -q $CPU --field section --dim 16 corpus.jsonl"
golden embed-quarantine "winnow embed $CPU --quarantine q.jsonl --dim 16 mixed.jsonl" q.jsonl
golden embed-stream-stdin "winnow embed $CPU --stream --dim 8 --max-record 1000 --on-error skip < corpus.jsonl.gz"
golden_fails embed-fails-missing-text 1 "winnow embed $CPU --dim 16 --npy x.npy bad-missing-text.jsonl"
golden_fails embed-fails-malformed 1 "winnow embed $CPU --dim 16 mixed.jsonl"
golden_fails embed-fails-usage 2 'winnow embed --vec-dtype f64 nightly.jsonl'
golden_fails embed-fails-model-dir 2 'winnow embed --model no-such-model nightly.jsonl'

# --- vectors ----------------------------------------------------------------------
golden vectors-example-export "winnow embed $CPU corpus.jsonl | winnow vectors export --npy emb.npy > /dev/null" emb.npy
golden vectors-example-import-kmeans "winnow vectors import --npy vectors.npy docs500.jsonl | winnow cluster kmeans -k 10 $CPU"
golden vectors-example-from-field 'winnow vectors import --from-field openai.embedding docs-oai.jsonl > with-emb.jsonl' with-emb.jsonl
golden vectors-export-from-field-f16 'winnow vectors export --npy oai.npy --from-field openai.embedding --dim 8 --vec-dtype f16 docs-oai.jsonl' oai.npy
golden vectors-import-f16 'winnow vectors import --npy vectors.npy --vec-dtype f16 docs500.jsonl'
golden vectors-roundtrip 'winnow vectors export --npy e.npy emb.jsonl > passed.jsonl && winnow vectors import --npy e.npy --dim 24 -o re.jsonl passed.jsonl' e.npy passed.jsonl re.jsonl
golden vectors-import-skip 'winnow vectors import --from-field openai.embedding --on-error skip oai-bad.jsonl'
golden vectors-export-stream-quiet 'winnow vectors export -q --stream --npy s.npy --vec-dtype f16 emb.jsonl' s.npy
golden_fails vectors-fails-dim 1 'winnow vectors import --from-field openai.embedding --dim 9 docs-oai.jsonl'
golden_fails vectors-fails-usage 2 'winnow vectors import docs-oai.jsonl'

# --- cluster kmeans ---------------------------------------------------------------
golden kmeans-example-embed-pipeline "winnow embed $CPU < docs.jsonl | winnow cluster kmeans -k 12 $CPU > clustered-out.jsonl" clustered-out.jsonl
golden kmeans-example-centroids-out "winnow cluster kmeans -k 20 --seed 7 --centroids-out today.npy $CPU < emb.jsonl > out.jsonl" today.npy out.jsonl
golden kmeans-example-centroids-reuse "head -250 emb.jsonl | winnow cluster kmeans -q -k 20 --seed 7 --centroids-out yesterday.npy $CPU > /dev/null && winnow cluster kmeans --centroids yesterday.npy $CPU < emb.jsonl > out.jsonl" yesterday.npy out.jsonl
golden kmeans-example-npy-stats "winnow cluster kmeans -k 50 --npy vectors.npy --stats km.json $CPU docs500.jsonl && unclock km.json > km-noclock.json" km-noclock.json
golden kmeans-spherical-max-train "winnow cluster kmeans -k 16 --spherical --niter 10 --max-train 300 --seed 3 $CPU emb.jsonl.zst"
golden_float kmeans-engine-core "winnow cluster kmeans -k 10 --engine core --stats core.json $CPU emb.jsonl && unclock core.json > core-noclock.json" core-noclock.json
golden kmeans-field-emb "winnow cluster kmeans -k 6 --field-emb vec --engine faiss $CPU -o k.jsonl emb-vec.jsonl" k.jsonl
golden kmeans-quarantine "winnow cluster kmeans -k 5 --stream --quarantine q.jsonl $CPU emb-bad.jsonl" q.jsonl
golden_fails kmeans-fails-k 1 "winnow cluster kmeans -k 501 $CPU emb.jsonl"
golden_fails kmeans-fails-no-vector 1 "winnow cluster kmeans -k 5 $CPU emb-bad.jsonl"
golden_fails kmeans-fails-usage 2 "winnow cluster kmeans $CPU emb.jsonl"

# --- cluster hkmeans --------------------------------------------------------------
golden hkmeans-example-levels-zst "winnow cluster hkmeans --levels 40,8,2 $CPU emb.jsonl.zst"
golden hkmeans-example-seed "winnow cluster hkmeans --levels 50,10,3 --seed 1 $CPU < emb.jsonl > out.jsonl" out.jsonl
golden hkmeans-spherical-stats "winnow cluster hkmeans --levels 30,6 --spherical --niter 8 --max-train 300 --seed 2 --stats h.json $CPU emb.jsonl" h.json
golden hkmeans-core-npy "winnow cluster hkmeans --levels 12,3 --engine core --npy vectors.npy $CPU docs500.jsonl"
golden hkmeans-field-emb-output "winnow cluster hkmeans --levels 6,2 --field-emb vec -o h.jsonl $CPU emb-vec.jsonl" h.jsonl
golden hkmeans-skip-stream "winnow cluster hkmeans --levels 10,2 --stream --on-error skip $CPU emb-bad.jsonl"
golden hkmeans-balanced-pipeline "winnow cluster hkmeans -q --levels 20,4 --seed 1 $CPU emb.jsonl | winnow select --balanced --cap 60 --seed 1"
golden_fails hkmeans-fails-levels 2 "winnow cluster hkmeans --levels 5,20 $CPU emb.jsonl"
golden_fails hkmeans-fails-k 1 "head -20 emb.jsonl | winnow cluster hkmeans --levels 30,3 $CPU"

# --- cluster graph ----------------------------------------------------------------
golden graph-example-stdin "winnow cluster graph --threshold 0.95 --knn 10 $CPU < emb.jsonl > out.jsonl" out.jsonl
golden graph-example-knn20 "winnow cluster graph --threshold 0.92 --knn 20 $CPU emb.jsonl"
golden graph-hnsw-stats 'winnow cluster graph --threshold 0.8 --knn 5 --index hnsw --stats g.json --device cpu --threads 1 emb.jsonl' g.json
golden graph-hnsw-above "winnow cluster graph --threshold 0.9 --hnsw-above 100 $CPU emb.jsonl"
golden graph-flat-npy "winnow cluster graph --threshold 0.85 --index flat --npy vectors.npy --stats f.json $CPU docs500.jsonl" f.json
golden graph-engine-core "winnow cluster graph --threshold 0.9 --knn 8 --engine core $CPU emb.jsonl"
golden graph-field-emb "winnow cluster graph --threshold 0.9 --field-emb vec $CPU emb-vec.jsonl"
golden graph-quarantine "winnow cluster graph --threshold 0.9 --quarantine q.jsonl -o g.jsonl $CPU emb-bad.jsonl" q.jsonl g.jsonl
golden_fails graph-fails-usage 2 "winnow cluster graph --knn 5 $CPU emb.jsonl"

# --- score zipfit -----------------------------------------------------------------
golden zipfit-example-zst 'winnow score zipfit --threads 2 --target evals.jsonl pool.jsonl.zst > scored.jsonl' scored.jsonl
golden zipfit-example-zstd 'winnow score zipfit --threads 2 --target evals.jsonl --compressor zstd --level 3 pool.jsonl'
golden zipfit-example-select-top 'winnow score zipfit --threads 2 --target evals.jsonl pool.jsonl.zst | winnow select --top 30 --by winnow.zipfit'
golden zipfit-lz4-level9 'winnow score zipfit --threads 2 --target evals.jsonl --compressor lz4 --level 9 pool.jsonl'
golden zipfit-gzip-level1-field 'winnow score zipfit --threads 2 --level 1 --target evals-body.jsonl --target-field body pool.jsonl'
golden zipfit-csv-skip 'winnow score zipfit --threads 2 --csv --on-error skip --level 6 --target evals.jsonl -o z.jsonl table.csv' z.jsonl
golden zipfit-field 'winnow score zipfit --threads 2 --field body --target pool.jsonl --target-field text evals-body.jsonl'
golden_fails zipfit-fails-no-target 2 'winnow score zipfit pool.jsonl'
golden_fails zipfit-fails-missing-target 1 'winnow score zipfit --target no-such.jsonl pool.jsonl'

# --- score dsir -------------------------------------------------------------------
golden dsir-example-plain 'winnow score dsir --threads 2 --target domain.jsonl raw.jsonl > scored.jsonl' scored.jsonl
golden dsir-example-zstdcat-raw 'zstdcat raw.jsonl.zst | winnow score dsir --threads 2 --target domain.jsonl --raw sample.jsonl'
golden dsir-example-select 'winnow score dsir --threads 2 --target domain.jsonl raw.jsonl | winnow select --sample 500 --weights winnow.dsir --log-weights'
golden dsir-buckets-xxh3-ngrams 'winnow score dsir --threads 2 --target domain.jsonl --buckets 5000 --hash xxh3 --ngrams 3 sample.jsonl'
golden dsir-fields 'winnow score dsir --threads 2 --target domain-body.jsonl --target-field body --raw sample-body.jsonl --raw-field body corpus.jsonl'
golden dsir-skip 'winnow score dsir --threads 2 --target domain.jsonl --on-error skip --stream mixed.jsonl'
golden dsir-field 'winnow score dsir --threads 2 --field body --target domain.jsonl --target-field text --raw sample.jsonl --raw-field text sample-body.jsonl'
golden_fails dsir-fails-hash 2 'winnow score dsir --hash md5 --target domain.jsonl sample.jsonl'

# --- pipelines: README.md, pipelines/demo.sh (make demo), the t6000 chain -------------
golden readme-pipeline "zstdcat corpus.jsonl.zst | winnow embed $CPU | winnow cluster kmeans -k 10 $CPU | winnow select --per winnow.cluster --cap 5 | winnow store out.db && winnow export out.db > stored.jsonl && dbdump out.db selection > out.dump" stored.jsonl out.dump
golden demo-pipeline "winnow cat docs500.jsonl | winnow embed $CPU | winnow cluster kmeans -k 20 --seed 1 $CPU | winnow score zipfit --threads 2 --target evals.jsonl | winnow select --per winnow.cluster --cap 25 | winnow store demo.db --table demo && winnow export demo.db --table demo --to csv && dbdump demo.db demo > demo.dump" demo.dump
golden cluster-chain-pipeline "winnow embed --dim 64 $CPU corpus.jsonl | winnow cluster kmeans -k 30 --spherical $CPU | winnow cluster hkmeans --levels 20,4 $CPU | winnow cluster graph --threshold 0.95 $CPU"
