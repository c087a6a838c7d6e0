"""Tokenizers and Megatron .bin/.idx files."""
