"""Smart lists: the filter and trigger catalogue (compiler and explain come later)."""

from kampanj.smartlist.catalogue import Catalogue, CatalogueEntry, ConditionSpec, RuleKind

__all__ = ["Catalogue", "CatalogueEntry", "ConditionSpec", "RuleKind"]
