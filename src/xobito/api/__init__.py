"""HTTP plumbing shared by every router: the route class and the error mapping."""
