"""Token syntax (TOK-1..3); contexts and resolution come later."""
