"""Dataset versions in the store: ids, the staging area, manifests, the pinned tokenizer, and diffs.

    datasets/<name>/
      versions/v0001/                 published, immutable (files read-only): manifest.json, shards/, tokens/, ...
      staging/v0002/                  a version being built: run.json names the run that owns the id;
      staging/v0002/version/          the complete folder that becomes versions/v0002 with one rename
      tokenizer/PINNED.json           the tokenizer every version of the dataset is tokenized with
      tokenizer/<tokenizer-folder>/   a stored tokenizer: its model file and tokenizer-info.json
      dedup-index/                    see pipeline/dedup/index.py

Modules: params ([shards] and [publish] config), ids (allocating and listing version ids), staging (the publish
rename), files (describing a version's files), manifest (reading manifests), code (the code version recorded),
pins (the stored and pinned tokenizer), diff (what changed between two versions).

Why it is shaped this way:
- A version id is taken when a run first needs it, by creating `staging/<id>/` (mkdir is atomic, so two runs never
  get the same id), and recorded in the run folder, so a rerun after a crash finishes the same id. An id whose run
  was abandoned stays unused (a gap in the numbers).
- Publishing is one rename of a complete folder; before it nothing under versions/ changes, so a run killed at any
  point leaves no visible partial version.
- Files are described (bytes, sha256, rows) and read back by Spark tasks, one per file, so the driver never reads
  the corpus.
"""
