module wspulse_client/bench/go_json

go 1.19
