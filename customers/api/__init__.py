"""The customers REST API (DRF): serializers, filters and views; routes in customers/api_urls.py."""
