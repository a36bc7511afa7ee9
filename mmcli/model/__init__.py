"""The fused Keras model: encoders, fusion, head, and how batches are fed to it.

Modules here import Keras at import time; only commands that train or predict
import them, so ``mmcli --help`` stays fast.
"""
