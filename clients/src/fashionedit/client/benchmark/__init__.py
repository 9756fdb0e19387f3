"""The FashionEdit benchmark runner (Table 1: SD2/SD3 initialisation, Vanilla(k), BUG(k)) and its reports."""

from .report import build_report, csv_table, markdown_table, table_rows, write_report
from .runner import BenchmarkRunner, RunConfig, edit_output, load_records, run_benchmark

__all__ = [name for name in dir() if not name.startswith("_")]
