"""FashionEdit difference analyzer: original + generated design -> top-k differences with boxes and crops."""
