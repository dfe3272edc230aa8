"""The verified implementations behind the executable companion to the thesis
"On variational autoencoders: theory and applications".

Each module holds one concept; docstrings cite the thesis statement they implement.
"""

__version__ = "0.1.0"
