terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # The state holds the generated passwords: keep it in an encrypted, private bucket. Its bucket and key are given
  # at init: terraform init -backend-config="bucket=<state bucket>" -backend-config="key=merchant-insights/<env>.tfstate"
  backend "s3" {
    encrypt      = true
    use_lockfile = true
  }
}
