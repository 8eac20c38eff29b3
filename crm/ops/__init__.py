"""What an operator watches: /healthz for a load balancer, and the admins' page of queues,
workers, failed jobs and periodic runs (read from RQ's own records in Redis)."""
