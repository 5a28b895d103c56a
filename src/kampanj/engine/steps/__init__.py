"""Flow step implementations, one module per step family (FLOW-13..23)."""
