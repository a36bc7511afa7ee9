"""The text kind: a string cell, cleaned (HTML, URLs, control characters, Unicode NFKC,
whitespace, length), vectorized inside the model.

Several text columns are joined with ``--text-sep`` into one modality (``text_inputs =
"join"``, the default) or kept as one modality each (``"separate"``: ``text``, ``text_2`` ...).
The cleaned text is stored in ``examples.parquet`` under the modality's name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from mmcli.modalities.base import Fault, Modality, Outcome, Ready, TableContext

if TYPE_CHECKING:
    import pandas as pd

    from mmcli.config import PrepConfig


class TextModality(Modality):
    """Free text: one string per row (absent: empty after cleaning)."""

    kind: ClassVar[str] = "text"
    column_names: ClassVar[tuple[str, ...]] = (
        "text", "description", "caption", "title", "sentence", "name", "display_name",
    )
    config_field: ClassVar[str | None] = "text_col"
    encoders: ClassVar[str] = "mmcli.model.text_encoders"
    absent_message: ClassVar[str] = "no text after cleaning"
    needs_fit: ClassVar[bool] = True

    def match_score(self, values: Sequence[str]) -> float | None:
        """Mostly several words per cell; the longer the texts the better."""
        if not values or sum(" " in value for value in values) / len(values) <= 0.5:
            return None
        return sum(map(len, values)) / len(values)

    def role_notes(self, config: PrepConfig) -> dict[str, Any]:
        return {"text_inputs": "separate"} if config.text_inputs == "separate" else {}

    def sources(self, columns: Sequence[str], config: PrepConfig) -> list[tuple[str, ...]]:
        if config.text_inputs == "separate":
            return [(column,) for column in columns]
        return [tuple(columns)] if columns else []

    def preparer(self, context: TableContext) -> Callable[[Sequence[Any], str, bool], Outcome]:
        from mmcli.data.clean import TextOptions, clean_text_cut

        config = context.config
        limit = config.max_text_chars
        options = TextOptions(lowercase=config.lowercase, max_chars=limit)
        sep = config.text_sep

        def prepare(cells: Sequence[Any], row_id: str, rejected: bool) -> Outcome:
            if len(cells) == 1:
                text, length = clean_text_cut(cells[0], options)
            else:
                parts = [clean_text_cut(cell, options) for cell in cells]
                text, length = clean_text_cut(sep.join(p for p, _ in parts if p), options)
                length = max(length, *(n for _, n in parts))
            if length <= limit:
                return Ready(text or None)
            return Ready(text or None, (Fault(  # the text is used, cut: said, not silent
                "text_truncated", f"text of {length} characters cut to {len(text)} "
                f"(--max-text-chars {limit})", action="noted"),))

        return prepare

    def example_columns(self, name: str, config: PrepConfig) -> list[tuple[str, str]]:
        return [(name, "string")]

    def to_example(self, name: str, value: Any) -> dict[str, Any]:
        return {name: value or ""}

    def from_examples(self, name: str, examples: pd.DataFrame, config: PrepConfig) -> list:
        return examples[name].tolist()

    def input_spec(self, config: PrepConfig) -> tuple[tuple[int, ...], str]:
        return (), "string"

    def absent(self, config: PrepConfig) -> Any:
        return ""

    def encoder_choices(self) -> tuple[str, ...]:
        from mmcli.registry import TEXT_ENCODERS

        return tuple(TEXT_ENCODERS)

    def fit_values(self, values: Sequence[Any], config: PrepConfig) -> Any:
        return [v for v in values if v]
