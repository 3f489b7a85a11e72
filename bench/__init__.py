"""`make bench`: cold start, warm turns, DynamoDB cost, memory, artifact size and scale."""
