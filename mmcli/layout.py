"""File names and format versions of what mmcli writes: one place for all of them."""

# A prepared dataset folder (written by `mmcli preprocess`).
DATASET_FORMAT = 1
SCHEMA_FILE = "schema.json"
EXAMPLES_FILE = "examples.parquet"
REJECTS_FILE = "rejects.csv"
SHARD_PATTERN = "shard-{:05d}.npy"
SHARD_BYTES = 64 * 1024 * 1024  # target size of one image shard

# A bundle folder (written by `mmcli train`).
BUNDLE_FORMAT = 1
BUNDLE_FILE = "bundle.json"
MODEL_FILE = "model.keras"
HISTORY_FILE = "history.csv"
CURVES_FILE = "curves.png"
# Files a bundle cannot be used without: always hash-checked, whatever bundle.json lists.
REQUIRED_BUNDLE_FILES = (MODEL_FILE,)
# The optional HMAC of bundle.json (MMCLI_SIGNING_KEY), written after it, so never hashed.
SIGNATURE_FILE = "bundle.sig"

# Training checkpoints of a bundle <out>: the folder <out>.ckpt, removed when the run succeeds.
CHECKPOINT_FORMAT = 1
CHECKPOINT_SUFFIX = ".ckpt"
CHECKPOINT_FILE = "checkpoint.npz"

# The columns of rejects.csv, in order.
REJECT_COLUMNS = ("row", "id", "column", "reason", "action", "message")


def check_format(document, expected: int, error: type[Exception], where: str, what: str,
                 advice: str) -> dict:
    """``document`` (parsed JSON) as a dict of the ``expected`` format version.

    Raises:
        error: not a JSON object, or another ``format_version`` (the message ends with
            ``advice``).
    """
    if not isinstance(document, dict):
        raise error(f"{where}: {what} is not a JSON object")
    version = document.get("format_version")
    if version != expected:
        raise error(f"{where}: {what} format {version} cannot be read by this mmcli, which "
                    f"reads format {expected}; {advice}")
    return document

# A bundle's numeric exports for predicting without TensorFlow (mmcli export; train writes the
# default one): the contract and a model per engine, all under engine/ and all hashed.
ENGINE_DIR = "engine"
ENGINE_CONTRACT = "engine/contract.json"
ENGINE_README = "engine/README.md"
ENGINE_FILES = {"lite": "engine/model.tflite", "onnx": "engine/model.onnx"}
