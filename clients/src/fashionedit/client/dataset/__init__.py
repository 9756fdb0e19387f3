"""The FashionEdit dataset builder: DeepFashion-MultiModal folder -> drafts, scores, selection, differences, manifest."""

from ..common.dataset_folder import Dataset, load_dataset, write_dataset
from .builder import BuildConfig, BuildResult, DatasetBuilder, build_dataset, draft_seed
from .deepfashion import SourceItem, parse_name, scan_source
from .selection import default_val_size, load_selection_list, split_ids, top_n

__all__ = [name for name in dir() if not name.startswith("_")]
