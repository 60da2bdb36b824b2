"""The curator's collection: catalogue, import, similar sarees, few-shot, export. No Qt."""
