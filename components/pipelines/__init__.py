"""One component module per target pipeline type; `registry` maps each pipeline_type to its spec and component."""
