"""Order events between processes: their JSON form and the Redis Stream transport."""
