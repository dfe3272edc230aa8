"""The verified implementations behind the executable companion to the thesis
"On variational autoencoders: theory and applications".

Each module holds one concept; docstrings cite the thesis statement they implement. Layers:
the top-level modules are the theory the chapters teach; `experiments` names the trained models;
`infra` holds data, configuration, training and checkpoints; `book` the pages, figures and explorers.
"""

__version__ = "0.1.0"
