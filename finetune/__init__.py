"""LoRA / QLoRA fine-tuning of embedding backbones on relation candidates."""
