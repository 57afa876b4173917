"""Use cases. Each public function is one database transaction."""
