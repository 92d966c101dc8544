"""tensorcalc.evaluation"""
